import {
  BusAdmin,
  ControlFollower,
  DlqManager,
  KafkaProducer,
  type AgentConsumerStatus,
  type EngineObserver,
} from "@omnidaemon/bus-kafka";
import type { AgentState, CoordinatorClient, DesiredState, RateHint } from "@omnidaemon/protocol";
import type { Logger } from "pino";
import type { ResolvedAgent } from "./agent-definition";
import { AgentConsumerSet } from "./agent-consumer-set";
import { CoordinatorLink } from "./coordinator-link";
import type { SdkConfig } from "./sdk-config";
import { combineObservers, TaskEventReporter } from "./task-event-reporter";

/**
 * The SDK's long-lived services, built unstarted from one configuration. Enter them into a lifecycle stack in the
 * order of the fields below — after `admin` starts, `admin.ensureSystemTopics()` — and the stack stops them in
 * reverse (apps/worker/src/main.ts does exactly this; `OmniDaemon.start()` does it for an embedding app).
 */
export interface OmniDaemonServices {
  readonly config: SdkConfig;
  readonly logger: Logger;
  /** Every record the process writes: tasks, retries, replies, follow-ups, dead letters, task events. */
  readonly producer: KafkaProducer;
  /** Topics (the fleet's system topics, each agent's topics) and lag. */
  readonly admin: BusAdmin;
  /**
   * Registration and heartbeats with the coordinator, best effort. Stopped after the consumers, so the worker
   * deregisters only once they have drained and left their groups.
   */
  readonly coordinatorLink: CoordinatorLink;
  /** The fleet's desired state, read to the end of the control topic before any consumer starts (a paused agent never consumes). */
  readonly controlFollower: ControlFollower;
  /**
   * Every agent's consumer: started together at `start()` (bounded concurrency), stopped together — all stop
   * fetching at once and drain in parallel within one deadline.
   */
  readonly agents: AgentConsumerSet;
  /** Every agent's dead-letter writes, and the depth of each agent's DLQ. */
  readonly dlqManager: DlqManager;
  /** What every delivery reports to: the task-event reporter, then the embedding app's observers. */
  readonly observer: EngineObserver;
}

/** What the services need of the `OmniDaemon` that owns them. */
export interface ServiceHooks {
  client: CoordinatorClient;
  /** The registered agents (the coordinator link registers them; the reporter reads their result policy). */
  agents(): ResolvedAgent[];
  agentOf(topic: string, name: string): ResolvedAgent | undefined;
  statuses(): Array<{ topic: string; name: string; desired: AgentState; status: AgentConsumerStatus }>;
  onState(state: DesiredState): void;
  /** Another worker's rate hint: a provider pushed back on that agent (docs/rate-limits.md). */
  onRateHint(hint: RateHint): void;
  onCaughtUp(): void;
  /** Starts the consumer of every registered agent (the agent set's `start()`). */
  startAgents(services: OmniDaemonServices): Promise<void>;
}

export interface ServiceSettings {
  observers: EngineObserver[];
  coordinatorHeartbeatMs: number;
  controlTopic: string | undefined;
  controlCatchUpTimeoutMs: number | undefined;
  dlqDepthIntervalMs: number;
}

/** Builds every service; no I/O, no timers (each starts when it is entered). */
export function buildServices(
  config: SdkConfig,
  logger: Logger,
  settings: ServiceSettings,
  hooks: ServiceHooks,
): OmniDaemonServices {
  const connection = config.kafka;
  const producer = new KafkaProducer({ connection, logger });
  const services: OmniDaemonServices = {
    config,
    logger,
    producer,
    admin: new BusAdmin({ connection, logger, defaultPartitions: config.partitions }),
    coordinatorLink: new CoordinatorLink({
      client: hooks.client,
      workerId: config.workerId,
      logger,
      agents: () => hooks.agents(),
      statuses: () => hooks.statuses(),
      heartbeatIntervalMs: settings.coordinatorHeartbeatMs,
    }),
    controlFollower: new ControlFollower({
      connection,
      logger,
      onState: (state) => hooks.onState(state),
      onRateHint: (hint) => hooks.onRateHint(hint),
      onCaughtUp: () => hooks.onCaughtUp(),
      ...(settings.controlTopic === undefined ? {} : { topic: settings.controlTopic }),
      ...(settings.controlCatchUpTimeoutMs === undefined
        ? {}
        : { catchUpTimeoutMs: settings.controlCatchUpTimeoutMs }),
    }),
    agents: new AgentConsumerSet({ startAll: () => hooks.startAgents(services) }),
    dlqManager: new DlqManager({
      connection,
      publisher: producer,
      logger,
      depthIntervalMs: settings.dlqDepthIntervalMs,
    }),
    observer: combineObservers([
      new TaskEventReporter(producer, config.workerId, logger, {
        policyOf: (topic, name) => hooks.agentOf(topic, name)?.config,
      }),
      ...settings.observers,
    ]),
  };
  return services;
}
