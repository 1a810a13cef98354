import type { Logger } from "pino";
import type { KafkaConnectionInput } from "../config";
import type { GroupBatch, GroupConsumer } from "../driver/consumer";
import { createGroupConsumer } from "../driver/factories";
import type { AgentNames } from "../naming";
import { backoffMs } from "./backoff";
import type { PausePlan } from "./fetch-pauses";
import type { Ownership } from "./sticky-assignment";

/** What the group link tells the engine. Called only for the link's current consumer. */
export interface GroupEvents {
  /** A new assignment: every partition the member holds now (after a crash too, once it rejoined). */
  onAssignment(assignment: Record<string, number[]>): void;
  /** The group is about to move partitions: hand over what is complete. */
  onRevoking(): void;
  /** Records fetched; returns how many the engine took (what it did not take is fetched again). */
  onBatch(batch: GroupBatch): number;
}

export interface GroupLinkOptions {
  connection: KafkaConnectionInput;
  names: AgentNames;
  logger: Logger;
  /** Where a new group starts reading the agent's topic (its retry topic is always read from the start). */
  startFrom: "earliest" | "latest";
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxWaitTimeMs: number;
  events: GroupEvents;
}

/**
 * One agent's membership in its consumer group, through the driver interface (driver/consumer.ts: kafkajs or
 * @platformatic/kafka): the subscription to the agent's topic and retry topic, assignments and revocations, fetch
 * pauses, commits, and a consumer rebuilt when its driver gives up on it. Delivery semantics live elsewhere: this
 * file only knows partitions and offsets.
 */
export class GroupLink {
  private consumer: GroupConsumer | undefined;
  /** Between `connect()` and `close()`: a consumer its driver gave up on is rebuilt. */
  private open = false;
  /** The consumer when `close()` began: a restart may replace it during a drain, and both are stopped. */
  private closingConsumer: GroupConsumer | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartAttempts = 0;
  private isMember = false;
  private isCrashed = false;
  /** The partitions this member was last assigned: a consumer rebuilt after a crash asks to keep them. */
  private owned: Ownership = {};
  /**
   * The pause plan last applied to the consumer (its `key`); undefined when unknown (a rebalance, a crash and restart
   * of the consumer group, or a failed call), so the next plan is applied whatever it is.
   */
  private appliedPauses: string | undefined = "";
  private lastFetch: number | undefined;

  constructor(private readonly options: GroupLinkOptions) {}

  /** Joined the group and holds an assignment (possibly empty). */
  get member(): boolean {
    return this.isMember;
  }

  /** Crashed and not yet assigned again: its partitions may have moved to another worker meanwhile. */
  get crashed(): boolean {
    return this.isCrashed;
  }

  get connected(): boolean {
    return this.consumer !== undefined;
  }

  /** Epoch ms of the last fetch response (proves the poll loop is alive). */
  get lastFetchAt(): number | undefined {
    return this.lastFetch;
  }

  /** Whether the consumer's pause state is unknown, so the next plan must be applied even if it did not change. */
  get pausesUnknown(): boolean {
    return this.appliedPauses === undefined;
  }

  /** Creates the group consumer, joins, and starts fetching. On failure nothing stays open. */
  async connect(): Promise<void> {
    this.open = true;
    try {
      await this.connectConsumer();
    } catch (error) {
      this.open = false;
      this.consumer = undefined;
      throw error;
    }
  }

  /** No more restarts from now on (a drain begins); the consumer keeps heartbeating until `close()`. */
  holdRestarts(): void {
    this.open = false;
    this.closingConsumer ??= this.consumer;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  /** Leaves the group: stops the consumer (and one a restart put in its place meanwhile). Never throws. */
  async close(): Promise<void> {
    this.holdRestarts();
    const clients = new Set([this.closingConsumer, this.consumer]);
    this.closingConsumer = undefined;
    for (const client of clients) {
      await client
        ?.stop()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, "disconnect failed"));
    }
    this.consumer = undefined;
    this.isMember = false;
    this.isCrashed = false;
    this.owned = {};
    this.appliedPauses = "";
    this.restartAttempts = 0;
  }

  /** Commits offsets (the next offset to read, per partition) in one request. */
  commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    const consumer = this.consumer;
    return consumer ? consumer.commit(offsets) : Promise.resolve();
  }

  /**
   * The one place that tells the consumer what to fetch. Applied only when the plan changed (or the consumer's state
   * is unknown). Never throws: between a crash and the consumer's restart kafkajs has no group to pause and throws;
   * the next assignment applies it again.
   */
  applyPauses(plan: PausePlan): void {
    const consumer = this.consumer;
    if (!consumer || plan.key === this.appliedPauses) return;
    const { topic, retryTopic } = this.options.names;
    try {
      if (plan.all) {
        consumer.pause(topic);
        consumer.pause(retryTopic);
      } else {
        // Resuming a whole topic also clears its partition pauses; the parked ones are paused again at once.
        consumer.resume(topic);
        consumer.resume(retryTopic);
        if (plan.parkedRetryPartitions.length > 0) consumer.pause(retryTopic, plan.parkedRetryPartitions);
      }
      this.appliedPauses = plan.key;
    } catch (error) {
      this.appliedPauses = undefined;
      this.options.logger.debug(
        { err: error },
        "pause state not applied now; it is applied again at the next assignment",
      );
    }
  }

  /**
   * Creates, wires and starts a group consumer as `this.consumer`. Every callback ignores a consumer that is no
   * longer ours: one replaced after a crash, or stopped while its driver was restarting it, is stopped for good.
   * On failure the consumer is stopped and the error thrown; `this.consumer` still names it.
   */
  private async connectConsumer(): Promise<GroupConsumer> {
    const { names, logger, events } = this.options;
    const ours = (): boolean => {
      if (this.consumer === consumer) return true;
      void consumer.stop().catch(() => undefined);
      return false;
    };
    const consumer: GroupConsumer = createGroupConsumer(this.options.connection, logger, {
      groupId: names.groupId,
      // `startFrom` is about the agent's topic only: its retry topic holds events this agent already accepted, so a
      // new group must read it from the start, never skip it.
      topics: [
        { topic: names.topic, fromBeginning: this.options.startFrom === "earliest" },
        { topic: names.retryTopic, fromBeginning: true },
      ],
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      rebalanceTimeoutMs: Math.max(this.options.sessionTimeoutMs, 60_000),
      maxWaitTimeMs: this.options.maxWaitTimeMs,
      previousAssignment: this.owned,
      onAssignment: (assignment) => {
        if (!ours()) return;
        this.owned = assignment;
        this.isMember = true;
        this.isCrashed = false;
        // After a crash the restarted consumer group may have forgotten every pause: apply the plan again.
        this.appliedPauses = undefined;
        events.onAssignment(assignment);
      },
      onFetch: () => {
        this.lastFetch = Date.now();
      },
      onRevoking: () => {
        if (!ours()) return;
        this.isMember = false;
        events.onRevoking();
      },
      onCrash: (error, restart) => {
        if (ours()) this.onCrash(consumer, error, restart);
      },
      onBatch: (batch) => events.onBatch(batch),
    });
    this.consumer = consumer;
    this.appliedPauses = "";
    try {
      await consumer.start();
    } catch (error) {
      await consumer.stop().catch(() => undefined);
      throw error;
    }
    return consumer;
  }

  /**
   * The consumer left the group (kafkajs disconnects on a crash) and either its driver rejoins after a backoff — a
   * new group member with a fresh fetch state, which may have forgotten every pause — or, for an error it deems
   * fatal, never (then it is rebuilt here, see `scheduleRestart`). Until the next assignment the engine starts
   * nothing new (`crashed`), because the partitions may have moved to another worker meanwhile.
   */
  private onCrash(consumer: GroupConsumer, error: unknown, restart: boolean): void {
    this.isMember = false;
    this.isCrashed = true;
    this.appliedPauses = undefined;
    this.options.logger.error({ err: error, restart }, "consumer crashed");
    if (!restart) this.scheduleRestart(consumer);
  }

  private scheduleRestart(crashed: GroupConsumer): void {
    // While connecting too: a crash during the first join ends `consumer.run()` normally, with nothing running.
    if (!this.open || this.restartTimer !== undefined) return;
    const waitMs = backoffMs(++this.restartAttempts, 1000, 30_000);
    this.options.logger.warn(
      { waitMs, attempt: this.restartAttempts },
      "restarting the consumer its driver gave up on",
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart(crashed);
    }, waitMs);
  }

  private async restart(crashed: GroupConsumer): Promise<void> {
    const current = (): boolean => this.open && this.consumer === crashed;
    if (!current()) return;
    await crashed.stop().catch(() => undefined);
    // A drain or a stop may have begun while the old consumer stopped.
    if (!current()) return;
    try {
      const consumer = await this.connectConsumer();
      // close() may have begun meanwhile: it stops `this.consumer`, which is this one.
      if (this.open) this.restartAttempts = 0;
      else await consumer.stop().catch(() => undefined);
    } catch (error) {
      this.options.logger.warn({ err: error }, "consumer restart failed; trying again");
      if (this.consumer) this.scheduleRestart(this.consumer);
    }
  }
}
