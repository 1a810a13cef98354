// About 400 lines: the SDK's one public class — its start-up order and every method users call — is what users read
// to learn the SDK; it delegates the rest (services.ts builds the services, agent-consumer-set.ts,
// coordinator-link.ts, task-event-reporter.ts).
import {
  AgentConsumer,
  agentNames,
  createEnvelope,
  holdOfHint,
  redactKafkaConnection,
  type AgentConsumerStatus,
  type EngineObserver,
  type NewEnvelope,
} from "@omnidaemon/bus-kafka";
import {
  COORDINATOR_URL_VARIABLE,
  CoordinatorClient,
  CoordinatorApiError,
  DEFAULT_COORDINATOR_URL,
  controlKey,
  type AgentDeleted,
  type AgentLimits,
  type AgentState,
  type AgentsDeleted,
  type DesiredState,
  type DesiredStateChange,
  type HealthReport,
  type MetricsSummary,
  type RateHint,
  type TaskRecord,
} from "@omnidaemon/protocol";
import { ServiceStack, StartStop } from "@omnidaemon/lifecycle";
import pino, { type Logger } from "pino";
import { resolveAgent, type AgentDefinition, type ResolvedAgent } from "./agent-definition";
import { forEachBounded } from "./bounded-each";
import { apiTokenFrom, loadSdkConfig, type SdkConfig } from "./sdk-config";
import { buildServices, type OmniDaemonServices } from "./services";
import { drainTimeoutMsOf } from "./shutdown-budget";

export interface OmniDaemonOptions {
  /** Where configuration is read from, at `start()`. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
  /** Extra observers of every agent's deliveries (the worker adds Prometheus metrics and webhooks). */
  observers?: EngineObserver[];
  /**
   * How often the DLQ manager reads the depth of each agent's DLQ (`dlqManager.depths()`, the worker's
   * `omnidaemon_dlq_depth`); 0 never reads it. @default 0
   */
  dlqDepthIntervalMs?: number;
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
  /** Each agent's limits and last rate hint from the control topic: a consumer created later starts with them. */
  private readonly limits = new Map<string, AgentLimits>();
  private readonly hints = new Map<string, RateHint>();
  /** Whether the control topic has been read to its end: only then does a missing record mean "active". */
  private controlCaughtUp = false;
  /** The services of this run, built by `services()` (or `start()`). */
  private built: OmniDaemonServices | undefined;
  /** The services whose agents have started: from then on a registered agent starts at once. */
  private live: OmniDaemonServices | undefined;
  /** What `start()` entered, for `shutdown()`. */
  private stack: ServiceStack | undefined;
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
    if (this.live) await this.startAgent(this.live, agent);
    return { topic: agent.topic, name: agent.name };
  }

  /** Connects and starts every registered agent. Idempotent; a failed start may be tried again. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /**
   * The SDK's services, built on the first call from the configuration (the environment is read here; no I/O, no
   * timers). An app enters them into its own lifecycle stack in start-up order — producer, admin (then
   * `admin.ensureSystemTopics()`), coordinatorLink, controlFollower, agents, dlqManager — as the worker's main.ts
   * does; `start()` does the same into a stack of its own. Throws an `SdkConfigError` naming every bad variable.
   */
  services(): OmniDaemonServices {
    if (this.built) return this.built;
    const overrides = this.options.overrides;
    const config: SdkConfig = { ...loadSdkConfig(this.env), ...overrides };
    const logger = this.options.logger ?? pino({ level: config.logLevel });
    // Logged when the services are built, right before they start (in start() or in an app's stack).
    logger.info(
      { workerId: config.workerId, kafka: redactKafkaConnection(config.kafka) },
      "omnidaemon starting",
    );
    this.controlCaughtUp = false;
    this.built = buildServices(
      config,
      logger,
      {
        observers: this.options.observers ?? [],
        coordinatorHeartbeatMs: overrides?.coordinatorHeartbeatMs ?? 5000,
        controlTopic: overrides?.controlTopic,
        controlCatchUpTimeoutMs: overrides?.controlCatchUpTimeoutMs,
        dlqDepthIntervalMs: this.options.dlqDepthIntervalMs ?? 0,
      },
      {
        client: this.coordinator(config.apiToken),
        agents: () => [...this.agents.values()],
        agentOf: (topic, name) => this.agents.get(controlKey(topic, name)),
        statuses: () => this.statuses(),
        onState: (state) => this.applyState(state),
        onRateHint: (hint) => this.applyRateHint(hint),
        onCaughtUp: () => this.onControlCaughtUp(),
        startAgents: (services) => this.startAgents(services),
      },
    );
    return this.built;
  }

  private async doStart(): Promise<void> {
    const services = this.services();
    const { config, logger } = services;
    try {
      await using stack = new ServiceStack({ logger });
      // The worker's start-up order (apps/worker/src/main.ts); the stack stops them in reverse.
      await stack.enter(services.producer);
      await stack.enter(services.admin);
      await services.admin.ensureSystemTopics();
      await stack.enter(services.coordinatorLink);
      await stack.enter(services.controlFollower);
      await stack.enter(services.agents, { stopTimeoutMs: config.shutdownTimeoutMs + 10_000 });
      await stack.enter(services.dlqManager);
      this.stack = stack.move();
    } catch (error) {
      // Rolled back: a later start() builds everything afresh.
      this.built = undefined;
      this.live = undefined;
      throw error;
    }
    logger.info({ workerId: config.workerId, agents: this.agents.size }, "omnidaemon started");
  }

  /**
   * The agent set's start: every registered agent, concurrently but bounded. Each agent's start is mostly waiting on
   * the broker (topics, connect, group join), so one after another a 50-agent worker took over a minute to become
   * ready; all at once would open every connection in the same tick. A failure stops further starts; the stack then
   * stops the consumers already added.
   */
  private async startAgents(services: OmniDaemonServices): Promise<void> {
    await forEachBounded(this.agents.values(), services.config.agentStartConcurrency, (agent) =>
      this.startAgent(services, agent),
    );
    this.live = services;
  }

  private async startAgent(services: OmniDaemonServices, agent: ResolvedAgent): Promise<void> {
    const { config, logger } = services;
    const key = controlKey(agent.topic, agent.name);
    logger.debug({ topic: agent.topic, agent: agent.name }, "agent starting");
    await services.admin.ensureAgentTopics(agent.topic, agent.name);
    const state = this.desiredOf(key);
    const consumer = new AgentConsumer({
      connection: config.kafka,
      topic: agent.topic,
      agent: agent.name,
      handler: agent.callback,
      publisher: services.producer,
      deadLetters: services.dlqManager,
      config: agent.config,
      logger,
      observer: services.observer,
      startPaused: state !== "active",
      drainTimeoutMs: drainTimeoutMsOf(config.shutdownTimeoutMs),
      sessionTimeoutMs: config.sessionTimeoutMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      workerId: config.workerId,
      // The share of the agent's fleet-wide limits is the share of these partitions a worker owns.
      countPartitions: async (topics) => {
        const counts = await Promise.all(topics.map((topic) => services.admin.topicPartitions(topic)));
        return counts.reduce<number>((sum, count) => sum + (count ?? 0), 0);
      },
    });
    // Limits a control record brought before the consumer existed (read while the control topic was caught up).
    const limits = this.limits.get(key);
    if (limits !== undefined) consumer.setLimits(limits);
    const hint = this.hints.get(key);
    if (hint !== undefined) consumer.onRateHint(holdOfHint(hint));
    this.consumers.set(key, consumer);
    services.dlqManager.watch(agent.topic, agent.name);
    await services.agents.add(consumer);
    services.coordinatorLink.agentsChanged();
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
    // A record with limits carries the registry's (with an operator's override): they replace the agent config's.
    // One without (a coordinator that predates limits) leaves the config's in force.
    if (state.limits !== undefined) {
      this.limits.set(key, state.limits);
      this.consumers.get(key)?.setLimits(state.limits);
    }
    this.applyTo(key, state.topic, state.agent, state.state);
  }

  /** Another worker's push-back from a provider: this worker's share of the agent's rate goes down too. */
  private applyRateHint(hint: RateHint): void {
    const key = controlKey(hint.topic, hint.agent);
    this.hints.set(key, hint);
    this.consumers.get(key)?.onRateHint(holdOfHint(hint));
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
    const logger = this.built?.logger ?? this.options.logger;
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
    const stack = this.stack;
    this.stack = undefined;
    this.live = undefined;
    await stack?.close();
  }

  /** Second signal: abort every in-flight delivery now (nothing more is committed for them). */
  abortInFlight(): void {
    for (const consumer of this.consumers.values()) consumer.abortInFlight();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  /** The protocol's client of the coordinator; the token comes from the configuration once it was read. */
  private coordinator(configuredToken?: string): CoordinatorClient {
    if (!this.client) {
      const url = this.env[COORDINATOR_URL_VARIABLE] || DEFAULT_COORDINATOR_URL;
      const token = configuredToken ?? this.built?.config.apiToken ?? apiTokenFrom(this.env);
      this.client = new CoordinatorClient({
        url,
        ...(token ? { token } : {}),
        actor: "sdk",
        timeoutMs: 10_000,
      });
    }
    return this.client;
  }

  private requireRunning(what: string): OmniDaemonServices {
    if (!this.live) throw new Error(`${what} needs a started OmniDaemon: await sdk.start() first`);
    return this.live;
  }
}
