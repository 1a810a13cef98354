import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import type { KafkaConnectionInput } from "../config";
import { type GroupBatch, type GroupConsumer } from "../driver/consumer";
import { createGroupConsumer } from "../driver/factories";
import { createEnvelope, decodeEnvelope, encodeEnvelope, type Envelope, type NewEnvelope } from "../envelope";
import { BusError } from "../errors";
import { DeadlineExceededError, ReplyRejectedError, ResultNotJsonError } from "../handler-errors";
import { HEADER, intHeader } from "../headers";
import { findNonJson } from "../json-value";
import { agentNames, type AgentNames } from "../naming";
import type { OutgoingRecord, Publisher } from "../producer";
import { sleep } from "../util/deadline";
import {
  parseAgentRuntimeConfig,
  type AgentRuntimeConfig,
  type AgentRuntimeConfigInput,
} from "./agent-config";
import { backoffMs } from "./backoff";
import {
  deadLetterRecord,
  headersOf,
  retryRecord,
  type FailureInfo,
  type InboundRecord,
} from "./dead-letter";
import { failureVerdict } from "./failure-policy";
import { backpressureAfter, pausePlan } from "./fetch-pauses";
import { KeyScheduler } from "./key-scheduler";
import { PartitionTracker } from "./partition-tracker";
import type { Ownership } from "./sticky-assignment";
import type { AgentHandler, DeliveryContext, EngineObserver } from "./types";

export interface AgentConsumerOptions {
  connection: KafkaConnectionInput;
  topic: string;
  agent: string;
  handler: AgentHandler;
  /** Used for retries, dead letters, `reply_to` and `ctx.publish`. Started and stopped by its owner. */
  publisher: Publisher;
  config?: AgentRuntimeConfigInput;
  logger?: Logger;
  observer?: EngineObserver;
  /** Start without consuming (the agent is paused fleet-wide). @default false */
  startPaused?: boolean;
  /** Group session timeout: a worker that stops heartbeating loses its partitions after this. @default 30000 */
  sessionTimeoutMs?: number;
  /** @default 3000 */
  heartbeatIntervalMs?: number;
  /** How often completed offsets are committed (one request for all partitions). @default 1000 */
  commitIntervalMs?: number;
  /** How long stop() and pause() wait for in-flight deliveries before aborting them. @default 30000 */
  drainTimeoutMs?: number;
  /**
   * Records held in memory before fetching pauses (back-pressure). Keep it above one fetch response (kafkajs
   * brings up to ~1,000 records per partition): below that, every fetch pauses the consumer, and kafkajs drops and
   * re-fetches responses for paused partitions. @default max(10000, 4 × concurrency)
   */
  maxBufferedRecords?: number;
  /** Longest wait of a fetch on an idle topic; bounds publish → start latency. @default 100 */
  maxWaitTimeMs?: number;
  /**
   * After a delivery is aborted (deadline, revocation, forced shutdown), how long its key, its concurrency slot and
   * its workdir wait for a callback that ignores its signal to settle. Past it the key and the slot are released
   * anyway, with a warning and `onCallbackAbandoned`. Overrides the agent config's `abortGraceMs`.
   * @default config.abortGraceMs (30000)
   */
  abortGraceMs?: number;
}

interface PartitionState {
  topic: string;
  partition: number;
  tracker: PartitionTracker;
  /** Aborted when the partition is revoked: in-flight work stops and is not committed by this process. */
  revoked: AbortController;
  /** Deliveries running for this partition, to abort on revocation. */
  running: Set<Delivery>;
  highWatermark: number;
}

type Phase = "idle" | "starting" | "running" | "draining" | "stopped";

export interface AgentConsumerStatus {
  phase: Phase;
  paused: boolean;
  /** Joined the group and holds an assignment (possibly empty). */
  member: boolean;
  assignedPartitions: number;
  inFlight: number;
  /** Records waiting to start. */
  buffered: number;
  /**
   * Retry partitions parked until their head record is due (not "stuck": liveness ignores them). Not-yet-due
   * retries stay in Kafka, not in memory.
   */
  delayed: number;
  /** Epoch ms of the last fetch response (proves the poll loop is alive). */
  lastFetchAt: number | undefined;
  /** Epoch ms of the last completed delivery. */
  lastCompletionAt: number | undefined;
}

/** The longest delay a Node.js timer can hold. */
const MAX_TIMER_MS = 2 ** 31 - 1;

class ShutdownAbort extends Error {
  override readonly name = "ShutdownAbort";
}
class RevokedAbort extends Error {
  override readonly name = "PartitionRevoked";
}

/**
 * One agent's consumer: one Kafka consumer group, reading the agent's topic and its retry topic.
 *
 * The group consumer (driver/consumer.ts: kafkajs or @platformatic/kafka) hands batches to `onBatch`, which only files
 * records into a per-key scheduler and returns; the consumer keeps fetching and heartbeating however long handlers
 * run, so a minutes-long LLM call neither gets the worker kicked from its group nor stalls a rebalance. Deliveries run up to `concurrency` at once, never two of one key; offsets
 * are committed only over contiguous completed runs. A failed delivery is re-published to the retry topic (with its
 * attempt count and not-before time in headers) and its offset completes, so one slow key never holds back others.
 */
export class AgentConsumer {
  readonly name: string;
  readonly names: AgentNames;
  private readonly config: AgentRuntimeConfig;
  private readonly logger: Logger;
  private readonly observer: EngineObserver;
  private readonly sessionTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly commitIntervalMs: number;
  private readonly drainTimeoutMs: number;
  private readonly maxBuffered: number;
  private readonly maxWaitTimeMs: number;
  private readonly abortGraceMs: number;

  private consumer: GroupConsumer | undefined;
  private phase: Phase = "idle";
  private paused: boolean;
  private readonly partitions = new Map<string, PartitionState>();
  private scheduler: KeyScheduler<InboundRecord>;
  private readonly active = new Set<Promise<void>>();
  /** Every delivery whose callback is running: for the deadline sweep and forced aborts. */
  private readonly running = new Set<Delivery>();
  /** Aborted deliveries whose callback is still running, by record: their key and slot stay held until it settles. */
  private readonly lingering = new Map<InboundRecord, Delivery>();
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Retry partitions whose head record is not due yet: paused until then (see `park`). Partition → wake-up timer. */
  private readonly parked = new Map<number, NodeJS.Timeout>();
  private backpressured = false;
  /**
   * The pause state last applied to the consumer (see `syncPauses`); undefined when unknown (a rebalance, a crash and
   * restart of the consumer group, or a failed call), so the next sync applies it again.
   */
  private appliedPauses: string | undefined = "";
  /** The consumer crashed: until its next assignment nothing new starts (its partitions may have moved away). */
  private crashed = false;
  /** Our own restart of a consumer its driver gave up on (a crash it does not restart itself). */
  private restartTimer: NodeJS.Timeout | undefined;
  private restartAttempts = 0;
  private member = false;
  /** The partitions this member was last assigned: a consumer rebuilt after a crash asks to keep them. */
  private owned: Ownership = {};
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  /** Aborted when a drain deadline passes: every remaining delivery gives up. */
  private forced = new AbortController();
  private lastFetchAt: number | undefined;
  private lastCompletionAt: number | undefined;
  private transition: Promise<void> = Promise.resolve();
  private stopPromise: Promise<void> | undefined;

  constructor(private readonly options: AgentConsumerOptions) {
    this.names = agentNames(options.topic, options.agent);
    this.name = `agent-consumer:${options.topic}/${options.agent}`;
    this.config = parseAgentRuntimeConfig(options.config ?? {});
    this.logger = (options.logger ?? pino({ level: "silent" })).child({
      component: "agent-consumer",
      agent: options.agent,
      topic: options.topic,
    });
    this.observer = options.observer ?? {};
    this.paused = options.startPaused ?? false;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3000;
    this.commitIntervalMs = options.commitIntervalMs ?? 1000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.maxBuffered = options.maxBufferedRecords ?? Math.max(10_000, 4 * this.config.concurrency);
    this.maxWaitTimeMs = options.maxWaitTimeMs ?? 100;
    this.abortGraceMs = options.abortGraceMs ?? this.config.abortGraceMs;
    this.scheduler = new KeyScheduler(this.config.concurrency);
  }

  get runtimeConfig(): AgentRuntimeConfig {
    return this.config;
  }

  status(): AgentConsumerStatus {
    return {
      phase: this.phase,
      paused: this.paused,
      member: this.member,
      assignedPartitions: this.partitions.size,
      inFlight: this.scheduler.inFlight,
      buffered: this.scheduler.buffered,
      delayed: this.parked.size,
      lastFetchAt: this.lastFetchAt,
      lastCompletionAt: this.lastCompletionAt,
    };
  }

  /** Joins the group and starts consuming, unless the agent is paused. Idempotent. */
  start(): Promise<void> {
    return this.serialize(async () => {
      if (this.phase === "stopped") throw new Error(`${this.name} is stopped and cannot start again`);
      if (this.paused || this.phase === "running") return;
      await this.startConsuming();
    });
  }

  /** Stops consuming fleet-style: stop fetching, finish in-flight (bounded), commit, leave the group. */
  pause(): Promise<void> {
    return this.serialize(async () => {
      this.paused = true;
      await this.stopConsuming();
    });
  }

  /** Rejoins the group and continues from the committed offset. */
  resume(): Promise<void> {
    return this.serialize(async () => {
      this.paused = false;
      if (this.phase === "stopped" || this.phase === "running") return;
      await this.startConsuming();
    });
  }

  /** Stops for good: drains within `drainTimeoutMs`, commits, leaves the group. Idempotent; safe before start(). */
  stop(): Promise<void> {
    this.stopPromise ??= this.serialize(async () => {
      await this.stopConsuming();
      this.phase = "stopped";
    });
    return this.stopPromise;
  }

  /** Aborts every in-flight delivery now (second signal): nothing more is committed for them. */
  abortInFlight(): void {
    const reason = new ShutdownAbort("delivery aborted by forced shutdown");
    this.forced.abort(reason);
    for (const delivery of this.running) delivery.abort(reason, true);
  }

  /** Commits what is complete now (also runs on a timer). */
  commit(): Promise<void> {
    if (this.committing) return this.committing;
    const consumer = this.consumer;
    if (!consumer) return Promise.resolve();
    const offsets: Array<{
      topic: string;
      partition: number;
      offset: string;
      state: PartitionState;
      at: number;
    }> = [];
    for (const state of this.partitions.values()) {
      const at = state.tracker.commitCandidate();
      if (at !== undefined)
        offsets.push({ topic: state.topic, partition: state.partition, offset: String(at), state, at });
    }
    if (offsets.length === 0) return Promise.resolve();
    this.committing = consumer
      .commit(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })))
      .then(() => {
        for (const { state, at } of offsets) {
          state.tracker.markCommitted(at);
          this.reportLag(state);
        }
        this.safe("onCommitted", () =>
          this.observer.onCommitted?.({
            agent: this.names.agent,
            topic: this.names.topic,
            partitions: offsets.length,
          }),
        );
      })
      .catch((error: unknown) => {
        // Not fatal: the offsets stay pending and the next commit carries them.
        this.logger.warn({ err: error }, "offset commit failed; will retry");
      })
      .finally(() => {
        this.committing = undefined;
      });
    return this.committing;
  }

  // ---------------------------------------------------------------------------------------------------------------

  private serialize(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step);
    this.transition = next.catch(() => undefined);
    return next;
  }

  private async startConsuming(): Promise<void> {
    this.phase = "starting";
    this.forced = new AbortController();
    try {
      await this.connectConsumer();
    } catch (error) {
      this.consumer = undefined;
      this.phase = "idle";
      throw error;
    }
    this.phase = "running";
    this.commitTimer = setInterval(() => void this.commit(), this.commitIntervalMs);
    const sweepMs = Math.min(1000, Math.max(10, Math.floor(this.config.reclaimIdleMs / 4)));
    this.deadlineTimer = setInterval(() => this.sweepDeadlines(), sweepMs);
    this.logger.info({ groupId: this.names.groupId }, "agent consumer started");
  }

  /**
   * Creates, wires and starts a group consumer as `this.consumer`. Every callback ignores a consumer that is no
   * longer ours: one replaced after a crash, or stopped while its driver was restarting it, is stopped for good.
   * On failure the consumer is stopped and the error thrown; `this.consumer` still names it.
   */
  private async connectConsumer(): Promise<GroupConsumer> {
    const ours = (): boolean => {
      if (this.consumer === consumer) return true;
      void consumer.stop().catch(() => undefined);
      return false;
    };
    const consumer: GroupConsumer = createGroupConsumer(this.options.connection, this.logger, {
      groupId: this.names.groupId,
      // `startFrom` is about the agent's topic only: its retry topic holds events this agent already accepted, so a
      // new group must read it from the start, never skip it.
      topics: [
        { topic: this.names.topic, fromBeginning: this.config.startFrom === "earliest" },
        { topic: this.names.retryTopic, fromBeginning: true },
      ],
      sessionTimeoutMs: this.sessionTimeoutMs,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      rebalanceTimeoutMs: Math.max(this.sessionTimeoutMs, 60_000),
      maxWaitTimeMs: this.maxWaitTimeMs,
      previousAssignment: this.owned,
      onAssignment: (assignment) => {
        if (ours()) this.onAssignment(assignment);
      },
      onFetch: () => {
        this.lastFetchAt = Date.now();
      },
      onRevoking: () => {
        if (!ours()) return;
        this.member = false;
        // Best effort: hand over what is complete before the partitions move.
        void this.commit();
      },
      onCrash: (error, restart) => {
        if (ours()) this.onCrash(consumer, error, restart);
      },
      onBatch: (batch) => this.onBatch(batch),
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
   * fatal, never (then the engine rebuilds it, see `scheduleRestart`). Until the next assignment the engine starts nothing new, because the partitions may have moved to
   * another worker meanwhile; `onAssignment` then revokes what moved and re-applies the pause state.
   */
  private onCrash(consumer: GroupConsumer, error: unknown, restart: boolean): void {
    this.member = false;
    this.crashed = true;
    this.appliedPauses = undefined;
    this.logger.error({ err: error, restart }, "consumer crashed");
    if (!restart) this.scheduleRestart(consumer);
  }

  private scheduleRestart(crashed: GroupConsumer): void {
    // "starting" too: a crash during the first join ends `consumer.run()` normally, with nothing running.
    if ((this.phase !== "running" && this.phase !== "starting") || this.restartTimer !== undefined) return;
    const waitMs = backoffMs(++this.restartAttempts, 1000, 30_000);
    this.logger.warn(
      { waitMs, attempt: this.restartAttempts },
      "restarting the consumer its driver gave up on",
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart(crashed);
    }, waitMs);
  }

  private async restart(crashed: GroupConsumer): Promise<void> {
    const current = (): boolean =>
      (this.phase === "running" || this.phase === "starting") && this.consumer === crashed;
    if (!current()) return;
    await crashed.stop().catch(() => undefined);
    // stop() or pause() may have begun while the old consumer stopped.
    if (!current()) return;
    try {
      const consumer = await this.connectConsumer();
      // stop() may have begun meanwhile: it stops `this.consumer`, which is this one.
      if (this.phase === "running" || this.phase === "starting") this.restartAttempts = 0;
      else await consumer.stop().catch(() => undefined);
    } catch (error) {
      this.logger.warn({ err: error }, "consumer restart failed; trying again");
      if (this.consumer) this.scheduleRestart(this.consumer);
    }
  }

  private async stopConsuming(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || this.phase === "idle" || this.phase === "stopped") return;
    this.phase = "draining";
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const inFlight = this.active.size;
    let drained = false;
    // Every step runs, whatever the driver does meanwhile (a crash in the middle of a drain included): the phase
    // always ends `idle`, every timer is cleared.
    try {
      // Stop fetching first: onBatch would otherwise get the same untaken records again and again.
      this.syncPauses();
      this.dropWaiting(() => true);
      drained = await this.waitForActive(this.drainTimeoutMs);
      if (!drained) {
        this.logger.warn(
          { inFlight: this.active.size, drainTimeoutMs: this.drainTimeoutMs },
          "drain deadline passed",
        );
        this.abortInFlight();
        await this.waitForActive(5000);
      }
      clearInterval(this.commitTimer);
      this.commitTimer = undefined;
      await this.committing;
      await this.commit();
    } finally {
      clearInterval(this.commitTimer);
      this.commitTimer = undefined;
      clearInterval(this.deadlineTimer);
      this.deadlineTimer = undefined;
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      // A restart after a crash may have replaced the consumer during the drain: stop both.
      for (const client of new Set([consumer, this.consumer])) {
        await client?.stop().catch((error: unknown) => this.logger.warn({ err: error }, "disconnect failed"));
      }
      for (const state of this.partitions.values()) this.revoke(state);
      this.partitions.clear();
      this.consumer = undefined;
      this.member = false;
      this.crashed = false;
      this.owned = {};
      this.backpressured = false;
      this.appliedPauses = "";
      this.restartAttempts = 0;
      // The scheduler is kept: keys and slots of aborted callbacks that are still running stay held across a resume.
      this.phase = "idle";
    }
    this.logger.info({ drainedInFlight: inFlight, forced: !drained }, "agent consumer stopped");
  }

  private async waitForActive(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.active.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.active]),
        new Promise((resolve) => (timer = setTimeout(resolve, remaining))),
      ]);
      clearTimeout(timer);
    }
    return true;
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    this.owned = assignment;
    const assigned = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) assigned.add(`${topic}:${partition}`);
    }
    for (const [tp, state] of this.partitions) {
      if (!assigned.has(tp)) {
        this.revoke(state);
        this.partitions.delete(tp);
      }
    }
    this.member = true;
    this.crashed = false;
    // Re-evaluate back-pressure and re-apply the pause state on every assignment: revoked partitions took their
    // buffered records with them (back-pressure must not stay on with nothing pending), and after a crash the
    // restarted consumer group may have forgotten every pause.
    this.appliedPauses = undefined;
    this.pump();
    const mainPartitions = assignment[this.names.topic]?.length ?? 0;
    this.logger.info({ assigned: assigned.size, mainPartitions }, "group assignment received");
    this.safe("onRebalance", () =>
      this.observer.onRebalance?.({
        agent: this.names.agent,
        topic: this.names.topic,
        assigned: mainPartitions,
      }),
    );
  }

  /** The partition moved to another worker: stop its work here and never commit it from here. */
  private revoke(state: PartitionState): void {
    const reason = new RevokedAbort(`partition ${state.topic}:${state.partition} was revoked`);
    state.revoked.abort(reason);
    for (const delivery of state.running) delivery.abort(reason, true);
    const tp = `${state.topic}:${state.partition}`;
    if (state.topic === this.names.retryTopic) this.unpark(state.partition);
    this.scheduler.drop((record) => record.tp === tp);
  }

  private dropWaiting(predicate: (record: InboundRecord) => boolean): void {
    this.scheduler.drop(predicate);
    for (const partition of [...this.parked.keys()]) this.unpark(partition);
  }

  private stateFor(topic: string, partition: number): PartitionState {
    const tp = `${topic}:${partition}`;
    let state = this.partitions.get(tp);
    if (!state) {
      state = {
        topic,
        partition,
        tracker: new PartitionTracker(),
        revoked: new AbortController(),
        running: new Set(),
        highWatermark: -1,
      };
      this.partitions.set(tp, state);
    }
    return state;
  }

  /** Files the batch's records into the scheduler; returns how many it took (a parked retry head and what follows stay). */
  private onBatch(batch: GroupBatch): number {
    if (this.phase !== "running" && this.phase !== "starting") return 0;
    const state = this.stateFor(batch.topic, batch.partition);
    const retry = batch.topic === this.names.retryTopic;
    const tp = `${batch.topic}:${batch.partition}`;
    let taken = 0;
    for (const message of batch.messages) {
      // A parked retry partition takes nothing at or after its head (a batch fetched before the pause applied).
      if (retry && this.parked.has(batch.partition)) break;
      const offset = Number(message.offset);
      if (offset <= state.tracker.highest) {
        // Re-fetched after a rebalance kept this partition (or after a crash): already taken.
        taken++;
        continue;
      }
      const kafkaKey = message.key === null ? null : message.key.toString("utf8");
      const record: InboundRecord = {
        tp,
        topic: batch.topic,
        partition: batch.partition,
        offset,
        kafkaKey,
        value: message.value,
        message,
        retry,
        attempt: 1,
        key: kafkaKey ?? `${tp}:${offset}`,
      };
      if (retry) {
        const headers = headersOf(record);
        record.attempt = intHeader(headers, HEADER.attempt) ?? 1;
        const notBefore = intHeader(headers, HEADER.notBefore);
        if (notBefore !== undefined && notBefore > Date.now()) {
          this.park(batch.partition, notBefore);
          break;
        }
      }
      state.tracker.receive(offset);
      taken++;
      this.intake(record);
    }
    // What is not taken (a parked head and what follows it) is fetched again when the partition resumes.
    state.highWatermark = Number(batch.highWatermark);
    this.reportLag(state);
    this.pump();
    return taken;
  }

  private intake(record: InboundRecord): void {
    if (this.observer.onReceived) {
      this.safe("onReceived", () =>
        this.observer.onReceived?.({ agent: this.names.agent, topic: this.names.topic, retry: record.retry }),
      );
    }
    this.scheduler.enqueue(record.key, record);
  }

  /**
   * The head of a retry partition is not due yet: pause that partition and leave the record in Kafka, untaken,
   * until its not-before time. Nothing later in the partition starts ahead of it, so the committed position never
   * sits behind a completed retry (a crash cannot re-run a retry chain), and nothing waits in memory, so delayed
   * retries never count against the buffer that pauses the agent's topic. The cost: a due retry may wait behind
   * a longer delay at the head of its retry partition (see docs/delivery.md).
   */
  private park(partition: number, notBefore: number): void {
    if (this.parked.has(partition)) return;
    // setTimeout holds at most 2^31-1 ms; a longer wait wakes up early, finds the head still not due, parks again.
    const waitMs = Math.min(Math.max(0, notBefore - Date.now()), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      if (this.parked.get(partition) !== timer) return;
      this.parked.delete(partition);
      this.syncPauses();
    }, waitMs);
    this.parked.set(partition, timer);
    this.syncPauses();
  }

  private unpark(partition: number): void {
    clearTimeout(this.parked.get(partition));
    this.parked.delete(partition);
  }

  private pump(): void {
    if ((this.phase === "running" || this.phase === "starting") && !this.crashed) {
      for (let next = this.scheduler.next(); next; next = this.scheduler.next()) {
        const { key, item } = next;
        const settle = (): void => {
          this.active.delete(run);
          this.scheduler.release(key);
          this.reportInFlight();
          this.pump();
        };
        const run: Promise<void> = this.deliver(item)
          .finally(() => this.untilCallbackSettled(item))
          .then(settle, (error: unknown) => {
            this.logger.error({ err: error, offset: item.offset }, "delivery crashed");
            settle();
          });
        this.active.add(run);
      }
      this.reportInFlight();
    }
    this.applyBackpressure();
  }

  private applyBackpressure(): void {
    // Only records ready to start count: not-yet-due retries stay in Kafka (see `park`).
    const on = backpressureAfter(this.backpressured, this.scheduler.buffered, this.maxBuffered);
    // pump() runs after every delivery: touch the consumer only when something changed or its state is unknown.
    if (on === this.backpressured && this.appliedPauses !== undefined) return;
    this.backpressured = on;
    this.syncPauses();
  }

  /**
   * The one place that tells the consumer what to fetch: nothing while draining or back-pressured, else everything
   * but the parked retry partitions. Applied only when it changed (or is unknown). Never throws: between a crash and
   * the consumer's restart kafkajs has no group to pause and throws; the next assignment applies it again.
   */
  private syncPauses(): void {
    const consumer = this.consumer;
    if (!consumer || this.phase === "idle" || this.phase === "stopped") return;
    const plan = pausePlan({
      draining: this.phase === "draining",
      backpressured: this.backpressured,
      parkedRetryPartitions: this.parked.keys(),
    });
    if (plan.key === this.appliedPauses) return;
    const topics = [this.names.topic, this.names.retryTopic];
    try {
      if (plan.all) {
        for (const topic of topics) consumer.pause(topic);
      } else {
        // Resuming a whole topic also clears its partition pauses; the parked ones are paused again at once.
        for (const topic of topics) consumer.resume(topic);
        const partitions = plan.parkedRetryPartitions;
        if (partitions.length > 0) consumer.pause(this.names.retryTopic, partitions);
      }
      this.appliedPauses = plan.key;
    } catch (error) {
      this.appliedPauses = undefined;
      this.logger.debug(
        { err: error },
        "pause state not applied now; it is applied again at the next assignment",
      );
    }
  }

  // --- one record, start to finish ---------------------------------------------------------------------------------

  private async deliver(record: InboundRecord): Promise<void> {
    const state = this.partitions.get(record.tp);
    if (!state || state.revoked.signal.aborted) return;
    const decoded = decodeEnvelope(record.value);
    if (!decoded.ok) {
      const failure: FailureInfo = {
        reason: "invalid_record",
        error: Object.assign(new Error(decoded.reason), { name: "InvalidEnvelope" }),
        attempt: record.attempt,
        now: Date.now(),
      };
      this.logger.warn(
        { offset: record.offset, partition: record.partition, reason: decoded.reason },
        "invalid record",
      );
      if (await this.publishDurably(state, deadLetterRecord(record, this.names, failure))) {
        this.safe("onDeadLettered", () =>
          this.observer.onDeadLettered?.({
            agent: this.names.agent,
            topic: this.names.topic,
            reason: "invalid_record",
          }),
        );
        this.complete(state, record);
      }
      return;
    }
    let attempt = record.attempt;
    for (;;) {
      const envelope: Envelope =
        decoded.envelope.delivery_attempts === attempt
          ? decoded.envelope
          : { ...decoded.envelope, delivery_attempts: attempt };
      let outcome = await this.attempt(state, record, envelope, attempt);
      if (outcome.kind === "abandoned") return;
      if (outcome.kind === "succeeded") {
        const reply = envelope.reply_to ? await this.publishReply(state, envelope, outcome.result) : true;
        if (reply === false) return;
        if (reply === true) {
          // Reported only now: a task whose reply can never be published ends dead-lettered, not completed.
          this.reportSucceeded(envelope, attempt, outcome.durationMs, outcome.result);
          this.complete(state, record);
          return;
        }
        outcome = { kind: "failed", error: reply, durationMs: outcome.durationMs };
      }
      const verdict = failureVerdict({ error: outcome.error, attempt }, this.config);
      const next = verdict.outcome;
      const failure: FailureInfo = {
        reason: verdict.outcome === "retry" ? "retries_exhausted" : verdict.reason,
        error: outcome.error,
        attempt,
        now: Date.now(),
      };
      this.safe("onFailed", () =>
        this.observer.onFailed?.({
          envelope,
          attempt,
          agent: this.names.agent,
          durationMs: outcome.durationMs,
          error: outcome.error,
          outcome: next,
        }),
      );
      const logFields = { taskId: envelope.id, attempt, err: outcome.error, next };
      this.logger.warn(logFields, "delivery failed");
      if (verdict.outcome === "retry") {
        const delay = verdict.delayMs;
        if (this.config.strictKeyOrder) {
          // In place: the key stays locked, so this key's later events wait behind this one.
          await sleep(delay, AbortSignal.any([state.revoked.signal, this.forced.signal]));
          if (state.revoked.signal.aborted || this.forced.signal.aborted) return;
          attempt++;
          continue;
        }
        const value = encodeEnvelope(
          { ...decoded.envelope, delivery_attempts: attempt + 1 },
          Number.MAX_SAFE_INTEGER,
        );
        if (
          !(await this.publishDurably(
            state,
            retryRecord(record, this.names, failure, value, Date.now() + delay),
          ))
        ) {
          return;
        }
      } else if (verdict.outcome === "dead_letter") {
        if (!(await this.publishDurably(state, deadLetterRecord(record, this.names, failure)))) return;
        this.safe("onDeadLettered", () =>
          this.observer.onDeadLettered?.({
            agent: this.names.agent,
            topic: this.names.topic,
            reason: failure.reason,
            envelope,
          }),
        );
      }
      this.complete(state, record);
      return;
    }
  }

  private async attempt(
    state: PartitionState,
    record: InboundRecord,
    envelope: Envelope,
    attempt: number,
  ): Promise<
    | { kind: "succeeded"; result: unknown; durationMs: number }
    | { kind: "failed"; error: unknown; durationMs: number }
    | { kind: "abandoned" }
  > {
    // A strict-order retry in place: the previous attempt's callback may still be running after its deadline.
    const previous = this.untilCallbackSettled(record);
    if (previous) await previous;
    const ctx = new Delivery(this, envelope, record, attempt, performance.now());
    state.running.add(ctx);
    this.running.add(ctx);
    if (this.observer.onStarted) {
      this.safe("onStarted", () => this.observer.onStarted?.({ envelope, attempt, agent: this.names.agent }));
    }
    try {
      const result = await ctx.run(this.options.handler);
      const durationMs = performance.now() - ctx.startedAt;
      const normalized = result === undefined ? null : result;
      const problem = findNonJson(normalized, "result");
      if (problem !== undefined) {
        return {
          kind: "failed",
          error: new ResultNotJsonError(`callback returned non-JSON: ${problem}`),
          durationMs,
        };
      }
      return { kind: "succeeded", result: normalized, durationMs };
    } catch (error) {
      // Revocation and forced shutdown are not the handler's fault: the attempt does not count, nothing commits.
      if (ctx.abandoned) return { kind: "abandoned" };
      return { kind: "failed", error, durationMs: performance.now() - ctx.startedAt };
    } finally {
      state.running.delete(ctx);
      this.running.delete(ctx);
      if (ctx.callbackRunning) {
        // Aborted, and the callback ignores its signal: the hand-off (retry, DLQ) goes on now, but the key, the slot
        // and the workdir stay with the callback until it settles (see untilCallbackSettled).
        this.lingering.set(record, ctx);
        void ctx.callbackSettled.then(() => ctx.dispose());
      } else {
        ctx.dispose();
      }
    }
  }

  /**
   * Waits until the aborted callback of `record` (if any) has really settled, at most `abortGraceMs` after its
   * abort; its key and concurrency slot are released only after this. A callback still running past the grace is
   * given up on (reported), so one deaf callback cannot hold its key forever; its workdir is removed if it ever
   * settles.
   */
  private untilCallbackSettled(record: InboundRecord): Promise<void> | undefined {
    const delivery = this.lingering.get(record);
    // The common case returns synchronously: no promise per delivery.
    return delivery && this.holdUntilSettled(record, delivery);
  }

  private async holdUntilSettled(record: InboundRecord, delivery: Delivery): Promise<void> {
    const elapsed = performance.now() - (delivery.abortedAt ?? performance.now());
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      delivery.callbackSettled.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, this.abortGraceMs - elapsed), false);
        // A deaf callback must not keep a stopping process alive.
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    this.lingering.delete(record);
    if (settled) return;
    this.logger.warn(
      { taskId: delivery.taskId, attempt: delivery.attempt, abortGraceMs: this.abortGraceMs },
      "aborted callback did not settle within the abort grace; its key and slot are released",
    );
    this.safe("onCallbackAbandoned", () =>
      this.observer.onCallbackAbandoned?.({
        agent: this.names.agent,
        topic: this.names.topic,
        taskId: delivery.taskId,
        attempt: delivery.attempt,
        abortGraceMs: this.abortGraceMs,
      }),
    );
  }

  /** One timer per consumer instead of one per delivery: aborts deliveries that ran past `reclaimIdleMs`. */
  private sweepDeadlines(): void {
    const limit = this.config.reclaimIdleMs;
    const now = performance.now();
    for (const delivery of this.running) {
      if (now - delivery.startedAt >= limit) delivery.abort(new DeadlineExceededError(limit), false);
    }
  }

  private reportSucceeded(envelope: Envelope, attempt: number, durationMs: number, result: unknown): void {
    if (!this.observer.onSucceeded) return;
    this.safe("onSucceeded", () =>
      this.observer.onSucceeded?.({ envelope, attempt, agent: this.names.agent, durationMs, result }),
    );
  }

  /** True once acknowledged; false when abandoned (revoked, forced); the error when the reply can never go out. */
  private async publishReply(
    state: PartitionState,
    envelope: Envelope,
    result: unknown,
  ): Promise<boolean | ReplyRejectedError> {
    const reply = createEnvelope({
      topic: envelope.reply_to as string,
      content: result,
      correlationId: envelope.correlation_id ?? null,
      causationId: envelope.id,
      tenantId: envelope.tenant_id ?? null,
      source: this.names.agent,
    });
    const sent = await this.publishDurably(
      state,
      {
        topic: reply.topic,
        key: reply.correlation_id ?? reply.id,
        value: encodeEnvelope(reply, Number.MAX_SAFE_INTEGER),
      },
      true,
    );
    if (!(sent instanceof BusError)) return sent;
    return new ReplyRejectedError(`reply_to "${reply.topic}" cannot be published: ${sent.message}`, {
      cause: sent,
    });
  }

  /**
   * Publishes and retries until acknowledged, or until the partition is revoked or shutdown is forced. The
   * record's offset completes only after this returns true, so a broker outage delays events but never drops them.
   * A record the broker refuses for good (`PUBLISH_REJECTED`) is returned as the error when `rejectable`; the
   * engine's own retry and DLQ records are not (their topics are the agent's own): those keep being retried,
   * without holding up anyone else's records, until an operator fixes the topic.
   */
  private async publishDurably(state: PartitionState, record: OutgoingRecord): Promise<boolean>;
  private async publishDurably(
    state: PartitionState,
    record: OutgoingRecord,
    rejectable: true,
  ): Promise<boolean | BusError>;
  private async publishDurably(
    state: PartitionState,
    record: OutgoingRecord,
    rejectable = false,
  ): Promise<boolean | BusError> {
    for (let attempt = 1; ; attempt++) {
      if (state.revoked.signal.aborted || this.forced.signal.aborted) return false;
      try {
        await this.options.publisher.send(record);
        return true;
      } catch (error) {
        // Only the broker's verdict on the record; STOPPED and the like are not about the record.
        const rejected = error instanceof BusError && error.code === "PUBLISH_REJECTED";
        if (rejected && rejectable) return error;
        const fields = { err: error, topic: record.topic, attempt };
        if (rejected) this.logger.error(fields, "record rejected by the broker; retrying");
        else this.logger.warn(fields, "publish failed; retrying");
        await sleep(
          backoffMs(attempt, 200, 10_000),
          AbortSignal.any([state.revoked.signal, this.forced.signal]),
        );
      }
    }
  }

  private complete(state: PartitionState, record: InboundRecord): void {
    if (this.partitions.get(record.tp) !== state) return;
    state.tracker.complete(record.offset);
    this.lastCompletionAt = Date.now();
  }

  private reportLag(state: PartitionState): void {
    if (state.topic !== this.names.topic || state.highWatermark < 0) return;
    const position = state.tracker.committed ?? state.tracker.position() ?? state.highWatermark;
    const lag = Math.max(0, state.highWatermark - position);
    this.safe("onLag", () =>
      this.observer.onLag?.({
        agent: this.names.agent,
        topic: this.names.topic,
        partition: state.partition,
        lag,
      }),
    );
  }

  private reportInFlight(): void {
    if (!this.observer.onInFlight) return;
    const inFlight = this.scheduler.inFlight;
    this.safe("onInFlight", () =>
      this.observer.onInFlight?.({ agent: this.names.agent, topic: this.names.topic, inFlight }),
    );
  }

  private safe(hook: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger.warn({ err: error, hook }, "observer hook threw; ignored");
    }
  }

  /** @internal used by Delivery */
  get deliveryLogger(): Logger {
    return this.logger;
  }

  /** @internal used by Delivery */
  async publishFollowUp(parent: Envelope, event: NewEnvelope): Promise<string> {
    const envelope = createEnvelope({
      ...event,
      correlationId: event.correlationId ?? parent.correlation_id ?? parent.id,
      causationId: event.causationId ?? parent.id,
      tenantId: event.tenantId ?? parent.tenant_id ?? null,
      source: event.source ?? this.names.agent,
    });
    await this.options.publisher.publish(envelope, event.key === undefined ? {} : { key: event.key });
    return envelope.id;
  }
}

/**
 * The per-delivery context. Its AbortSignal, workdir and child logger are made on first use: most handlers never
 * touch them, and at tens of thousands of deliveries a second an AbortController and a timer each add up.
 */
class Delivery implements DeliveryContext {
  readonly agent: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The delivery was aborted for a reason that is not the handler's fault (revocation, forced shutdown). */
  abandoned = false;
  /** performance.now() of the abort, if aborted. */
  abortedAt: number | undefined;
  /** The callback was called and has not settled yet (it may outlive an abort if it ignores its signal). */
  callbackRunning = false;
  private settled: Promise<void> | undefined;
  private onSettled: (() => void) | undefined;
  private controller: AbortController | undefined;
  private reason: Error | undefined;
  private rejectRun: ((reason: Error) => void) | undefined;
  private dir: string | undefined;
  private childLogger: Logger | undefined;

  constructor(
    private readonly owner: AgentConsumer,
    private readonly envelope: Envelope,
    record: InboundRecord,
    readonly attempt: number,
    readonly startedAt: number,
  ) {
    this.agent = owner.names.agent;
    this.topic = record.topic;
    this.partition = record.partition;
    this.offset = String(record.offset);
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Runs the handler; settles with it, or rejects with the abort reason as soon as the delivery is aborted. */
  run(handler: AgentHandler): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      if (this.reason) return reject(this.reason);
      this.rejectRun = reject;
      let outcome: unknown;
      try {
        outcome = handler(this.envelope, this);
      } catch (error) {
        return reject(error as Error);
      }
      if (outcome !== null && typeof (outcome as Promise<unknown>)?.then === "function") {
        this.callbackRunning = true;
        (outcome as Promise<unknown>).then(
          (value) => {
            this.callbackDone();
            resolve(value);
          },
          (error: unknown) => {
            this.callbackDone();
            reject(error as Error);
          },
        );
      } else {
        resolve(outcome);
      }
    });
  }

  /** Settles when the callback itself has settled, which may be long after the engine stopped waiting for it. */
  get callbackSettled(): Promise<void> {
    if (!this.callbackRunning) return Promise.resolve();
    // Made only for an aborted callback that is still running: the common path allocates nothing.
    this.settled ??= new Promise<void>((resolve) => (this.onSettled = resolve));
    return this.settled;
  }

  private callbackDone(): void {
    this.callbackRunning = false;
    this.onSettled?.();
  }

  abort(reason: Error, abandon: boolean): void {
    if (this.reason) return;
    this.reason = reason;
    this.abortedAt = performance.now();
    this.abandoned = abandon;
    this.controller?.abort(reason);
    this.rejectRun?.(reason);
  }

  get taskId(): string {
    return this.envelope.id;
  }

  get logger(): Logger {
    this.childLogger ??= this.owner.deliveryLogger.child({
      taskId: this.envelope.id,
      correlationId: this.envelope.correlation_id ?? undefined,
      tenantId: this.envelope.tenant_id ?? undefined,
      attempt: this.attempt,
    });
    return this.childLogger;
  }

  get workdir(): string {
    this.dir ??= mkdtempSync(join(tmpdir(), `omnidaemon-${this.agent}-`));
    return this.dir;
  }

  publish(event: NewEnvelope): Promise<string> {
    return this.owner.publishFollowUp(this.envelope, event);
  }

  dispose(): void {
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}
