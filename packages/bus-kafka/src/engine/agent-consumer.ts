// About 460 lines: the consumer's public API and its phases (start, pause, resume, drain, stop) with the wiring of
// its parts — group link, scheduler, delivery runner, limits — in one place, so the order of every transition reads
// top to bottom; each part's logic lives in its own file (see the class comment).
import { StartStop } from "@omnidaemon/lifecycle";
import type { AgentLimits } from "@omnidaemon/protocol";
import pino, { type Logger } from "pino";
import type { GroupBatch } from "../driver/consumer";
import { HEADER, intHeader } from "../headers";
import { agentNames, type AgentNames } from "../naming";
import { parseAgentRuntimeConfig, type AgentRuntimeConfig } from "./agent-config";
import { headersOf, tenantOf, type InboundRecord } from "./dead-letter";
import { DeliveryRunner } from "./delivery";
import { pausePlan } from "./fetch-pauses";
import { GroupLink } from "./group-link";
import type { RateHold } from "./limits/adaptive-rate";
import type { Throttle } from "./limits/throttle";
import { ConsumerLimits } from "./consumer-limits";
import { notify } from "./notify";
import { lagOf, Partitions, tpOf, type PartitionState } from "./partitions";
import { DeliveryScheduler } from "./scheduler";
import type { AgentConsumerOptions, AgentConsumerStatus, Phase } from "./consumer-options";
import type { EngineObserver } from "./types";

// The consumer's options and status are declared beside it (consumer-options.ts) and are part of its API.
export type { AgentConsumerOptions, AgentConsumerStatus } from "./consumer-options";

class ShutdownAbort extends Error {
  override readonly name = "ShutdownAbort";
}
class RevokedAbort extends Error {
  override readonly name = "PartitionRevoked";
}

/**
 * One agent's consumer: one Kafka consumer group, reading the agent's topic and its retry topic.
 *
 * The group link (group-link.ts) hands batches to `onBatch`, which only files records into the scheduler and
 * returns; the consumer keeps fetching and heartbeating however long handlers run, so a minutes-long LLM call
 * neither gets the worker kicked from its group nor stalls a rebalance. The scheduler (scheduler.ts) runs up to
 * `concurrency` deliveries at once, never two of one key; each delivery (delivery.ts) ends in success or in the
 * failure policy's verdict (failure-policy.ts); offsets are committed only over contiguous completed runs
 * (partitions.ts). A failed delivery is re-published to the retry topic (with its attempt count and not-before time
 * in headers) and its offset completes, so one slow key never holds back others. This file wires them together and
 * owns the phases: start, pause, resume, drain, stop.
 *
 * Fleet-wide limits and tenant fairness (docs/rate-limits.md): the ready-queue is the limits' `FairScheduler`,
 * gated by this consumer's `Throttle`, whose share of the budget follows the partitions this consumer owns.
 */
export class AgentConsumer {
  readonly name: string;
  readonly names: AgentNames;
  private readonly config: AgentRuntimeConfig;
  private readonly logger: Logger;
  private readonly observer: EngineObserver;
  private readonly commitIntervalMs: number;
  private readonly drainTimeoutMs: number;
  private readonly partitions = new Partitions();
  private readonly group: GroupLink;
  private readonly scheduler: DeliveryScheduler;
  private readonly runner: DeliveryRunner;
  private readonly lifecycle: StartStop;
  private readonly limits: ConsumerLimits;

  private phase: Phase = "idle";
  private paused: boolean;
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  /** Aborted when a drain deadline passes: every remaining delivery gives up. */
  private forced = new AbortController();
  private lastCompletionAt: number | undefined;
  private transition: Promise<void> = Promise.resolve();

  constructor(options: AgentConsumerOptions) {
    this.names = agentNames(options.topic, options.agent);
    this.name = `agent-consumer:${options.topic}/${options.agent}`;
    const config = parseAgentRuntimeConfig(options.config ?? {});
    this.config = config;
    const logger = (options.logger ?? pino({ level: "silent" })).child({
      component: "agent-consumer",
      agent: options.agent,
      topic: options.topic,
    });
    this.logger = logger;
    const observer = options.observer ?? {};
    this.observer = observer;
    this.paused = options.startPaused ?? false;
    this.commitIntervalMs = options.commitIntervalMs ?? 1000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    const abortGraceMs = options.abortGraceMs ?? config.abortGraceMs;
    const limits = new ConsumerLimits({
      names: this.names,
      config,
      logger,
      publisher: options.publisher,
      workerId: options.workerId,
      countPartitions: options.countPartitions,
    });
    this.limits = limits;

    this.group = new GroupLink({
      connection: options.connection,
      names: this.names,
      logger,
      startFrom: config.startFrom,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3000,
      maxWaitTimeMs: options.maxWaitTimeMs ?? 100,
      events: {
        onAssignment: (assignment) => this.onAssignment(assignment),
        onRevoking: () => void this.commit(),
        onBatch: (batch) => this.onBatch(batch),
      },
    });
    // The ready-queue is made here and nowhere else.
    this.scheduler = new DeliveryScheduler({
      queue: limits.queue,
      maxBuffered: options.maxBufferedRecords ?? Math.max(10_000, 4 * config.concurrency),
      reclaimIdleMs: config.reclaimIdleMs,
      abortGraceMs,
      logger,
      deliver: (record) => {
        const state = this.partitions.get(record.tp);
        return state ? this.runner.run(record, state) : Promise.resolve();
      },
      mayStart: () => (this.phase === "running" || this.phase === "starting") && !this.group.crashed,
      syncPauses: () => this.syncPauses(),
      pausesUnknown: () => this.group.pausesUnknown,
      onInFlight: (inFlight) => {
        if (!observer.onInFlight) return;
        notify(logger, "onInFlight", () =>
          observer.onInFlight?.({ agent: this.names.agent, topic: this.names.topic, inFlight }),
        );
      },
      onCallbackAbandoned: (delivery) => {
        const event = { taskId: delivery.taskId, attempt: delivery.attempt, abortGraceMs };
        logger.warn(
          event,
          "aborted callback did not settle within the abort grace; its key and slot are released",
        );
        notify(logger, "onCallbackAbandoned", () =>
          observer.onCallbackAbandoned?.({ agent: this.names.agent, topic: this.names.topic, ...event }),
        );
      },
    });
    this.runner = new DeliveryRunner({
      names: this.names,
      config,
      handler: options.handler,
      publisher: options.publisher,
      deadLetters: options.deadLetters ?? {
        deadLetter: (record) => options.publisher.send(record),
      },
      logger,
      observer,
      inFlight: this.scheduler,
      forced: () => this.forced.signal,
      complete: (state, record) => this.complete(state, record),
      waitOnRetryAfter: () => limits.waitOnRetryAfter,
      onPushBack: (retryAfterMs, startedAt) => limits.onPushBack(retryAfterMs, startedAt),
    });
    this.lifecycle = new StartStop(
      this.name,
      {
        start: () =>
          this.serialize(async () => {
            if (this.paused || this.phase === "running") return;
            await this.startConsuming();
          }),
        stop: () =>
          this.serialize(async () => {
            await this.stopConsuming();
            this.phase = "stopped";
          }),
      },
      { stoppedError: () => new Error(`${this.name} is stopped and cannot start again`) },
    );
  }

  get runtimeConfig(): AgentRuntimeConfig {
    return this.config;
  }

  status(): AgentConsumerStatus {
    return {
      phase: this.phase,
      paused: this.paused,
      member: this.group.member,
      assignedPartitions: this.partitions.size,
      inFlight: this.scheduler.inFlight,
      buffered: this.scheduler.buffered,
      delayed: this.scheduler.delayed,
      lastFetchAt: this.group.lastFetchAt,
      lastCompletionAt: this.lastCompletionAt,
      inFlightLimit: this.limits.inFlightLimit,
      limitsShare: this.limits.share,
    };
  }

  /** The agent's fleet-wide limits as this worker enforces them (read by the worker's metrics). */
  get throttle(): Throttle {
    return this.limits.throttle;
  }

  /**
   * New fleet-wide limits (a control record: the registry's, with an operator's override on top): enforced from now
   * on, without a restart.
   */
  setLimits(limits: AgentLimits): void {
    this.limits.setLimits(limits);
    this.scheduler.pump();
  }

  /** Another worker's rate hint (a provider pushed back there): the agent's rate is lowered here too. */
  onRateHint(hold: RateHold): void {
    this.limits.onRateHint(hold);
  }

  /** Joins the group and starts consuming, unless the agent is paused. Idempotent. */
  start(): Promise<void> {
    return this.lifecycle.start();
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
    return this.lifecycle.stop();
  }

  /** Aborts every in-flight delivery now (second signal): nothing more is committed for them. */
  abortInFlight(): void {
    const reason = new ShutdownAbort("delivery aborted by forced shutdown");
    this.forced.abort(reason);
    this.scheduler.abortAll(reason);
  }

  /** Commits what is complete now (also runs on a timer). */
  commit(): Promise<void> {
    if (this.committing) return this.committing;
    if (!this.group.connected) return Promise.resolve();
    const offsets = this.partitions.commitCandidates();
    if (offsets.length === 0) return Promise.resolve();
    this.committing = this.group
      .commit(
        offsets.map(({ state, at }) => ({
          topic: state.topic,
          partition: state.partition,
          offset: String(at),
        })),
      )
      .then(() => {
        for (const { state, at } of offsets) {
          state.tracker.markCommitted(at);
          this.reportLag(state);
        }
        notify(this.logger, "onCommitted", () =>
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
    await this.limits.readPartitionTotal();
    try {
      await this.group.connect();
    } catch (error) {
      this.phase = "idle";
      throw error;
    }
    this.phase = "running";
    this.commitTimer = setInterval(() => void this.commit(), this.commitIntervalMs);
    this.scheduler.startDeadlineSweep();
    this.logger.info({ groupId: this.names.groupId }, "agent consumer started");
  }

  private async stopConsuming(): Promise<void> {
    if (!this.group.connected || this.phase === "idle" || this.phase === "stopped") return;
    this.phase = "draining";
    this.group.holdRestarts();
    const inFlight = this.scheduler.activeRuns;
    let drained = false;
    // Every step runs, whatever the driver does meanwhile (a crash in the middle of a drain included): the phase
    // always ends `idle`, every timer is cleared.
    try {
      // Stop fetching first: onBatch would otherwise get the same untaken records again and again.
      this.syncPauses();
      this.scheduler.dropWaiting();
      drained = await this.scheduler.drained(this.drainTimeoutMs);
      if (!drained) {
        this.logger.warn(
          { inFlight: this.scheduler.activeRuns, drainTimeoutMs: this.drainTimeoutMs },
          "drain deadline passed",
        );
        this.abortInFlight();
        await this.scheduler.drained(5000);
      }
      clearInterval(this.commitTimer);
      this.commitTimer = undefined;
      await this.committing;
      await this.commit();
    } finally {
      clearInterval(this.commitTimer);
      this.commitTimer = undefined;
      this.scheduler.idle();
      await this.group.close();
      for (const state of this.partitions.clear()) this.revoke(state);
      this.phase = "idle";
    }
    this.logger.info({ drainedInFlight: inFlight, forced: !drained }, "agent consumer stopped");
  }

  /** Every assignment change goes through here: revocations, back-pressure and fetch pauses are re-evaluated. */
  private onAssignment(assignment: Record<string, number[]>): void {
    for (const state of this.partitions.retainOnly(assignment)) this.revoke(state);
    // Revoked partitions took their buffered records with them (back-pressure must not stay on with nothing
    // pending), and after a crash the restarted consumer group may have forgotten every pause.
    this.limits.onAssignment(assignment);
    this.scheduler.pump();
    const assigned = Object.values(assignment).reduce((sum, partitions) => sum + partitions.length, 0);
    const mainPartitions = assignment[this.names.topic]?.length ?? 0;
    this.logger.info({ assigned, mainPartitions }, "group assignment received");
    notify(this.logger, "onRebalance", () =>
      this.observer.onRebalance?.({
        agent: this.names.agent,
        topic: this.names.topic,
        assigned: mainPartitions,
      }),
    );
  }

  /** The partition moved to another worker: stop its work here and never commit it from here. */
  private revoke(state: PartitionState): void {
    const reason = new RevokedAbort(`partition ${state.tp} was revoked`);
    state.revoked.abort(reason);
    for (const delivery of state.running) delivery.abort(reason, true);
    if (state.topic === this.names.retryTopic) this.scheduler.unpark(state.partition);
    this.scheduler.dropPartition(state.tp);
  }

  /** Files the batch's records into the scheduler; returns how many it took (a parked retry head and what follows stay). */
  private onBatch(batch: GroupBatch): number {
    if (this.phase !== "running" && this.phase !== "starting") return 0;
    const state = this.partitions.stateFor(batch.topic, batch.partition);
    const retry = batch.topic === this.names.retryTopic;
    const tp = tpOf(batch.topic, batch.partition);
    let taken = 0;
    for (const message of batch.messages) {
      // A parked retry partition takes nothing at or after its head (a batch fetched before the pause applied).
      if (retry && this.scheduler.isParked(batch.partition)) break;
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
        waits: 0,
        replays: 0,
        key: kafkaKey ?? `${tp}:${offset}`,
        tenant: tenantOf(message),
      };
      if (retry) {
        const headers = headersOf(record);
        record.attempt = intHeader(headers, HEADER.attempt) ?? 1;
        record.waits = intHeader(headers, HEADER.waits) ?? 0;
        record.replays = intHeader(headers, HEADER.replays) ?? 0;
        const notBefore = intHeader(headers, HEADER.notBefore);
        if (notBefore !== undefined && notBefore > Date.now()) {
          this.scheduler.park(batch.partition, notBefore);
          break;
        }
      }
      state.tracker.receive(offset);
      taken++;
      if (this.observer.onReceived) {
        notify(this.logger, "onReceived", () =>
          this.observer.onReceived?.({ agent: this.names.agent, topic: this.names.topic, retry }),
        );
      }
      this.scheduler.enqueue(record);
    }
    // What is not taken (a parked head and what follows it) is fetched again when the partition resumes.
    state.highWatermark = Number(batch.highWatermark);
    this.reportLag(state);
    this.scheduler.pump();
    return taken;
  }

  /** Fetch nothing while draining or back-pressured, else everything but the parked retry partitions. */
  private syncPauses(): void {
    if (this.phase === "idle" || this.phase === "stopped") return;
    this.group.applyPauses(
      pausePlan({
        draining: this.phase === "draining",
        backpressured: this.scheduler.backpressured,
        parkedRetryPartitions: this.scheduler.parkedRetryPartitions,
      }),
    );
  }

  private complete(state: PartitionState, record: InboundRecord): void {
    if (this.partitions.complete(state, record.offset)) this.lastCompletionAt = Date.now();
  }

  private reportLag(state: PartitionState): void {
    if (state.topic !== this.names.topic) return;
    const lag = lagOf(state);
    if (lag === undefined) return;
    notify(this.logger, "onLag", () =>
      this.observer.onLag?.({
        agent: this.names.agent,
        topic: this.names.topic,
        partition: state.partition,
        lag,
      }),
    );
  }
}
