// About 400 lines: the SDK's one public class — its services in start-up order (producer, admin, control follower,
// coordinator link, consumers) and every method users call — is what users read to learn the SDK; it delegates the
// rest (agent-consumer-set.ts, coordinator-link.ts, task-event-reporter.ts).
import {
  AgentConsumer,
  BusAdmin,
  ControlFollower,
  KafkaProducer,
  agentNames,
  createEnvelope,
  redactKafkaConnection,
  type AgentConsumerStatus,
  type EngineObserver,
  type KafkaConnectionInput,
  type NewEnvelope,
} from "@omnidaemon/bus-kafka";
import {
  COORDINATOR_URL_VARIABLE,
  CoordinatorClient,
  CoordinatorApiError,
  DEFAULT_COORDINATOR_URL,
  controlKey,
  type AgentDeleted,
  type AgentState,
  type AgentsDeleted,
  type DesiredState,
  type DesiredStateChange,
  type HealthReport,
  type MetricsSummary,
  type TaskRecord,
} from "@omnidaemon/protocol";
import { ServiceStack, StartStop } from "@omnidaemon/lifecycle";
import pino, { type Logger } from "pino";
import { resolveAgent, type AgentDefinition, type ResolvedAgent } from "./agent-definition";
import { AgentConsumerSet } from "./agent-consumer-set";
import { forEachBounded } from "./bounded-each";
import { CoordinatorLink } from "./coordinator-link";
import { apiTokenFrom, loadSdkConfig, type SdkConfig } from "./sdk-config";
import { drainTimeoutMsOf } from "./shutdown-budget";
import { combineObservers, TaskEventReporter } from "./task-event-reporter";

export interface OmniDaemonOptions {
  /** Where configuration is read from, at `start()`. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
  /** Extra observers of every agent's deliveries (the worker adds Prometheus metrics and webhooks). */
  observers?: EngineObserver[];
  /** Overrides for tests and embedding (otherwise from the environment). */
  overrides?: Partial<
    Pick<
      SdkConfig,
      | "workerId"
      | "shutdownTimeoutMs"
      | "partitions"
      | "sessionTimeoutMs"
      | "heartbeatIntervalMs"
      | "agentStartConcurrency"
    >
  > & {
    /** Interval of heartbeats to the coordinator; it also tells workers one. @default 5000 */
    coordinatorHeartbeatMs?: number;
    /** The fleet's compacted control topic (tests give each fleet its own). @default "omnidaemon.control" */
    controlTopic?: string;
    /** How long `start()` waits to read the control topic to its end. @default 15000 */
    controlCatchUpTimeoutMs?: number;
  };
}

/** An event to publish: bus-kafka's `NewEnvelope` (its content, optional id and links, and the Kafka key). */
export type PublishTaskInput = NewEnvelope;

interface Running {
  stack: ServiceStack;
  config: SdkConfig;
  logger: Logger;
  connection: KafkaConnectionInput;
  producer: KafkaProducer;
  admin: BusAdmin;
  link: CoordinatorLink;
  consumers: AgentConsumerSet;
  observer: EngineObserver;
}

/**
 * The SDK: register agents, start them (one consumer group per agent), publish tasks, and drive the fleet through
 * the coordinator. The constructor does no I/O and reads no secrets; `start()` reads the environment, connects,
 * and builds every client. `await using sdk = new OmniDaemon()` shuts it down at the end of the scope.
 */
export class OmniDaemon implements AsyncDisposable {
  private readonly agents = new Map<string, ResolvedAgent>();
  private readonly consumers = new Map<string, AgentConsumer>();
  /** Desired state per agent, as read from the control topic. */
  private readonly desired = new Map<string, AgentState>();
  /** Whether the control topic has been read to its end: only then does a missing record mean "active". */
  private controlCaughtUp = false;
  private running: Running | undefined;
  private client: CoordinatorClient | undefined;
  private readonly lifecycle = new StartStop(
    "OmniDaemon",
    { start: () => this.doStart(), stop: () => this.doShutdown() },
    { stoppedError: () => new Error("OmniDaemon was shut down; create a new one") },
  );

  constructor(private readonly options: OmniDaemonOptions = {}) {}

  private get env(): Readonly<Record<string, string | undefined>> {
    return this.options.env ?? process.env;
  }

  /**
   * Validates and registers an agent; errors name the field. Before `start()` it is queued; after, it starts
   * consuming at once. Registering the same (topic, name) twice is refused.
   */
  async registerAgent(definition: AgentDefinition): Promise<{ topic: string; name: string }> {
    const agent = resolveAgent(definition);
    const key = controlKey(agent.topic, agent.name);
    if (this.agents.has(key)) {
      throw new Error(
        `agent "${agent.name}" is already registered on topic "${agent.topic}" in this process`,
      );
    }
    this.agents.set(key, agent);
    if (this.running) await this.startAgent(this.running, agent);
    return { topic: agent.topic, name: agent.name };
  }

  /** Connects and starts every registered agent. Idempotent; a failed start may be tried again. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  private async doStart(): Promise<void> {
    this.controlCaughtUp = false;
    const overrides = this.options.overrides;
    const config = { ...loadSdkConfig(this.env), ...overrides };
    const logger = this.options.logger ?? pino({ level: config.logLevel });
    const connection: KafkaConnectionInput = config.kafka;
    logger.info(
      { workerId: config.workerId, kafka: redactKafkaConnection(config.kafka) },
      "omnidaemon starting",
    );
    await using stack = new ServiceStack({ logger });
    const producer = await stack.enter(new KafkaProducer({ connection, logger }));
    const admin = await stack.enter(
      new BusAdmin({ connection, logger, defaultPartitions: config.partitions }),
    );
    await admin.ensureSystemTopics();
    const client = this.coordinator();
    // Entered before the consumers, so it deregisters only after they have drained and left their groups.
    const link = await stack.enter(
      new CoordinatorLink({
        client,
        workerId: config.workerId,
        logger,
        agents: () => [...this.agents.values()],
        statuses: () => this.statuses(),
        heartbeatIntervalMs: this.options.overrides?.coordinatorHeartbeatMs ?? 5000,
      }),
    );
    // The control topic is read to the end before any consumer starts, so a paused agent never consumes.
    await stack.enter(
      new ControlFollower({
        connection,
        logger,
        onState: (state) => this.applyState(state),
        onCaughtUp: () => this.onControlCaughtUp(),
        ...(overrides?.controlTopic === undefined ? {} : { topic: overrides.controlTopic }),
        ...(overrides?.controlCatchUpTimeoutMs === undefined
          ? {}
          : { catchUpTimeoutMs: overrides.controlCatchUpTimeoutMs }),
      }),
    );
    // One service for every agent's consumer, stopped first: all stop fetching at once and drain in parallel
    // within the drain deadline, then the stack goes on to deregister and flush within the same budget.
    const consumers = await stack.enter(new AgentConsumerSet(), {
      stopTimeoutMs: config.shutdownTimeoutMs + 10_000,
    });
    const observer = combineObservers([
      new TaskEventReporter(producer, config.workerId, logger, {
        policyOf: (topic, name) => this.agents.get(controlKey(topic, name))?.config,
      }),
      ...(this.options.observers ?? []),
    ]);
    const running: Running = {
      stack,
      config,
      logger,
      connection,
      producer,
      admin,
      link,
      consumers,
      observer,
    };
    // Concurrently, bounded: each agent's start is mostly waiting on the broker (topics, connect, group join), so
    // one after another a 50-agent worker took over a minute to become ready; all at once would open every connection in
    // the same tick. A failure stops further starts; the stack then stops the consumers already added.
    await forEachBounded(this.agents.values(), config.agentStartConcurrency, (agent) =>
      this.startAgent(running, agent),
    );
    running.stack = stack.move();
    this.running = running;
    logger.info({ workerId: config.workerId, agents: this.agents.size }, "omnidaemon started");
  }

  private async startAgent(running: Running, agent: ResolvedAgent): Promise<void> {
    const key = controlKey(agent.topic, agent.name);
    running.logger.debug({ topic: agent.topic, agent: agent.name }, "agent starting");
    await running.admin.ensureAgentTopics(agent.topic, agent.name);
    const state = this.desiredOf(key);
    const consumer = new AgentConsumer({
      connection: running.connection,
      topic: agent.topic,
      agent: agent.name,
      handler: agent.callback,
      publisher: running.producer,
      config: agent.config,
      logger: running.logger,
      observer: running.observer,
      startPaused: state !== "active",
      drainTimeoutMs: drainTimeoutMsOf(running.config.shutdownTimeoutMs),
      sessionTimeoutMs: running.config.sessionTimeoutMs,
      heartbeatIntervalMs: running.config.heartbeatIntervalMs,
    });
    this.consumers.set(key, consumer);
    await running.consumers.add(consumer);
    running.link.agentsChanged();
  }

  /**
   * An agent's desired state. Never guessed: with no record on the control topic it is active (registered, never
   * paused) only once the topic has been read to its end; before that it is unknown, and treated as paused.
   */
  private desiredOf(key: string): AgentState {
    return this.desired.get(key) ?? (this.controlCaughtUp ? "active" : "paused");
  }

  /** Follows the fleet-wide desired state from the control topic. */
  private applyState(state: DesiredState): void {
    const key = controlKey(state.topic, state.agent);
    this.desired.set(key, state.state);
    this.applyTo(key, state.topic, state.agent, state.state);
  }

  /** The control topic was read to its end (after `start()` gave up waiting): agents with no record start. */
  private onControlCaughtUp(): void {
    this.controlCaughtUp = true;
    for (const agent of this.agents.values()) {
      const key = controlKey(agent.topic, agent.name);
      if (!this.desired.has(key)) this.applyTo(key, agent.topic, agent.name, "active");
    }
  }

  private applyTo(key: string, topic: string, agent: string, state: AgentState): void {
    const consumer = this.consumers.get(key);
    if (!consumer) return;
    // Not awaited: a pause drains in-flight work (up to the drain deadline), and one agent's drain must not hold
    // up the next control record for another agent. The consumer applies pause/resume in order.
    const applied = state === "active" ? consumer.resume() : consumer.pause();
    const logger = this.running?.logger ?? this.options.logger;
    const fields = { topic, agent, state };
    applied.then(
      () => logger?.info(fields, "desired state applied"),
      (error: unknown) => logger?.error({ ...fields, err: error }, "desired state not applied"),
    );
  }

  /** The running agent consumers (probes read their status and runtime config). */
  agentConsumers(): AgentConsumer[] {
    return [...this.consumers.values()];
  }

  /** Each agent consumer's status, for probes and heartbeats. */
  statuses(): Array<{ topic: string; name: string; desired: AgentState; status: AgentConsumerStatus }> {
    return [...this.agents.values()].flatMap((agent) => {
      const key = controlKey(agent.topic, agent.name);
      const consumer = this.consumers.get(key);
      return consumer
        ? [
            {
              topic: agent.topic,
              name: agent.name,
              desired: this.desiredOf(key),
              status: consumer.status(),
            },
          ]
        : [];
    });
  }

  /**
   * Lag per partition of an agent's group, from committed offsets (works while the agent is paused and its
   * consumer is not running). Requires `start()`.
   */
  async lag(topic: string, agentName: string): Promise<Array<{ partition: number; lag: number }>> {
    const running = this.requireRunning("lag");
    const names = agentNames(topic, agentName);
    const result = await running.admin.groupLag(names.groupId, [names.topic]);
    return result.partitions.map((p) => ({ partition: p.partition, lag: p.lag }));
  }

  // --- publishing -------------------------------------------------------------------------------------------------

  private readonly knownTopics = new Set<string>();

  /** Publishes an event (acks=all) and returns its task id. Requires `start()`. */
  async publishTask(input: PublishTaskInput): Promise<string> {
    const running = this.requireRunning("publishTask");
    const envelope = createEnvelope(input);
    if (!this.knownTopics.has(input.topic)) {
      await running.admin.ensureTopic(input.topic);
      this.knownTopics.add(input.topic);
    }
    await running.producer.publish(envelope, input.key === undefined ? {} : { key: input.key });
    return envelope.id;
  }

  // --- fleet control, through the coordinator ------------------------------------------------------------------

  /** Pauses an agent fleet-wide (durable: restarts and scaling do not un-pause it). */
  unsubscribeAgent(input: { topic: string; agentName: string }): Promise<DesiredStateChange> {
    return this.coordinator().pauseAgent(input.topic, input.agentName);
  }

  resumeAgent(input: { topic: string; agentName: string }): Promise<DesiredStateChange> {
    return this.coordinator().resumeAgent(input.topic, input.agentName);
  }

  deleteAgent(input: {
    topic: string;
    agentName: string;
    deleteGroup?: boolean;
    deleteDlq?: boolean;
  }): Promise<AgentDeleted> {
    return this.coordinator().deleteAgent(input.topic, input.agentName, {
      deleteGroup: input.deleteGroup === true,
      deleteDlq: input.deleteDlq === true,
    });
  }

  deleteTopic(input: { topic: string }): Promise<AgentsDeleted> {
    return this.coordinator().deleteTopic(input.topic);
  }

  /** The task's records (one per agent that handled it), or null when unknown or expired. */
  async getResult(taskId: string): Promise<TaskRecord[] | null> {
    try {
      return (await this.coordinator().getTask(taskId)).records;
    } catch (error) {
      if (error instanceof CoordinatorApiError && error.status === 404) return null;
      throw error;
    }
  }

  /** The fleet's health report; a down fleet is a report too (status "down"), not an error. */
  health(): Promise<HealthReport> {
    return this.coordinator().healthReport();
  }

  metrics(input: { topic?: string } = {}): Promise<MetricsSummary[]> {
    return this.coordinator().metricsSummary(input.topic ? { topic: input.topic } : {});
  }

  // --- shutdown ---------------------------------------------------------------------------------------------------

  /** Graceful: stop fetching, drain in flight, commit, deregister, flush, close. Idempotent. */
  shutdown(): Promise<void> {
    return this.lifecycle.stop();
  }

  private async doShutdown(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.stack.close();
  }

  /** Second signal: abort every in-flight delivery now (nothing more is committed for them). */
  abortInFlight(): void {
    for (const consumer of this.consumers.values()) consumer.abortInFlight();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  private coordinator(): CoordinatorClient {
    if (!this.client) {
      const url = this.env[COORDINATOR_URL_VARIABLE] || DEFAULT_COORDINATOR_URL;
      const token = this.running?.config.apiToken ?? apiTokenFrom(this.env);
      this.client = new CoordinatorClient({
        url,
        ...(token ? { token } : {}),
        actor: "sdk",
        timeoutMs: 10_000,
      });
    }
    return this.client;
  }

  private requireRunning(what: string): Running {
    if (!this.running) throw new Error(`${what} needs a started OmniDaemon: await sdk.start() first`);
    return this.running;
  }
}
