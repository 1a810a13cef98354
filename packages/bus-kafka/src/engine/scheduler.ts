import { MAX_TIMER_MS, raceDeadline, sleep } from "@omnidaemon/lifecycle";
import type { Logger } from "pino";
import { DeadlineExceededError } from "../handler-errors";
import type { InboundRecord } from "./dead-letter";
import type { Delivery, InFlightDeliveries } from "./delivery";
import { backpressureAfter } from "./fetch-pauses";
import type { PartitionState } from "./partitions";

/**
 * The ready-queue the scheduler draws from: at most `concurrency` items in flight, never two of one key. The engine
 * uses `KeyScheduler`; the limits' `FairScheduler` (engine/limits) has the same methods.
 */
export interface ReadyQueue<T> {
  readonly inFlight: number;
  /** Items waiting to start. */
  readonly buffered: number;
  enqueue(key: string, item: T): void;
  /** The next item allowed to start, or undefined. */
  next(): { key: string; item: T } | undefined;
  /** The item of `key` finished. */
  release(key: string): void;
  drop(predicate: (item: T) => boolean): number;
  /**
   * When the last `next()` found nothing because a rate limit refused (the limits' FairScheduler): the ms until a
   * start may be admitted. The scheduler then pumps again after that long.
   */
  readonly throttledForMs?: number | undefined;
}

export interface DeliverySchedulerOptions {
  /** Created by the consumer, in one place (see `AgentConsumer`'s constructor). */
  queue: ReadyQueue<InboundRecord>;
  /** Records waiting to start before fetching pauses (with hysteresis, see fetch-pauses.ts). */
  maxBuffered: number;
  /** A delivery running this long is aborted with `DeadlineExceededError` (the agent's `reclaimIdleMs`). */
  reclaimIdleMs: number;
  /** How long an aborted callback keeps its key and slot (see `AgentConsumerOptions.abortGraceMs`). */
  abortGraceMs: number;
  logger: Logger;
  /** Runs one record to its end (delivery.ts); never rejects on a callback's failure. */
  deliver(record: InboundRecord): Promise<void>;
  /** Whether new deliveries may start now. */
  mayStart(): boolean;
  /** Back-pressure changed, or a retry partition was parked or became due: apply the fetch pauses again. */
  syncPauses(): void;
  /** Whether the consumer's pause state is unknown (then the fetch pauses are applied even if nothing changed). */
  pausesUnknown(): boolean;
  onInFlight(inFlight: number): void;
  /** An aborted callback was still running `abortGraceMs` after its abort: its key and slot were released. */
  onCallbackAbandoned(delivery: Delivery): void;
}

/**
 * Which record starts when: records wait in the ready-queue (per key, fair across keys), `pump()` starts as many as
 * the queue allows, a finished delivery releases its key and pumps again. It also keeps the in-flight accounting
 * (the deliveries whose callback runs, for the deadline sweep and forced aborts; aborted callbacks that still hold
 * their key) and decides the fetch pauses: back-pressure when too many records wait, and retry partitions parked
 * until their head record is due. What to do with a record is delivery.ts's job; Kafka is the group link's.
 */
export class DeliveryScheduler implements InFlightDeliveries {
  private readonly queue: ReadyQueue<InboundRecord>;
  /** Runs in progress (a delivery and its wait for an aborted callback): what a drain waits for. */
  private readonly active = new Set<Promise<void>>();
  /** Every delivery whose callback is running: for the deadline sweep and forced aborts. */
  private readonly running = new Set<Delivery>();
  /** Aborted deliveries whose callback is still running, by record: their key and slot stay held until it settles. */
  private readonly lingering = new Map<InboundRecord, Delivery>();
  /** Retry partitions whose head record is not due yet: paused until then (see `park`). Partition → wake-up timer. */
  private readonly parked = new Map<number, NodeJS.Timeout>();
  private pressure = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** The one timer that pumps again when the rate limit admits the next start, and when it fires (epoch ms). */
  private throttleTimer: NodeJS.Timeout | undefined;
  private throttleWakeAt = Number.POSITIVE_INFINITY;

  constructor(private readonly options: DeliverySchedulerOptions) {
    this.queue = options.queue;
  }

  get inFlight(): number {
    return this.queue.inFlight;
  }

  get buffered(): number {
    return this.queue.buffered;
  }

  /** Runs in progress, those past their callback's end included. */
  get activeRuns(): number {
    return this.active.size;
  }

  get backpressured(): boolean {
    return this.pressure;
  }

  /** Retry partitions parked until their head record is due. */
  get delayed(): number {
    return this.parked.size;
  }

  get parkedRetryPartitions(): IterableIterator<number> {
    return this.parked.keys();
  }

  isParked(partition: number): boolean {
    return this.parked.has(partition);
  }

  /** A record taken from Kafka waits for its turn. */
  enqueue(record: InboundRecord): void {
    this.queue.enqueue(record.key, record);
  }

  /** Starts every record the queue allows now, then re-evaluates back-pressure. The one place deliveries start. */
  pump(): void {
    if (this.options.mayStart()) {
      for (let next = this.queue.next(); next; next = this.queue.next()) {
        const { key, item } = next;
        const settle = (): void => {
          this.active.delete(run);
          this.queue.release(key);
          this.options.onInFlight(this.queue.inFlight);
          this.pump();
        };
        const run: Promise<void> = this.options
          .deliver(item)
          .finally(() => this.untilSettled(item))
          .then(settle, (error: unknown) => {
            this.options.logger.error({ err: error, offset: item.offset }, "delivery crashed");
            settle();
          });
        this.active.add(run);
      }
      this.options.onInFlight(this.queue.inFlight);
      const throttledMs = this.queue.throttledForMs;
      if (throttledMs !== undefined) this.pumpAfter(throttledMs);
    }
    // Only records ready to start count: not-yet-due retries stay in Kafka (see `park`).
    const on = backpressureAfter(this.pressure, this.queue.buffered, this.options.maxBuffered);
    // pump() runs after every delivery: touch the consumer only when something changed or its state is unknown.
    if (on === this.pressure && !this.options.pausesUnknown()) return;
    this.pressure = on;
    this.options.syncPauses();
  }

  /** Pumps again in `ms` (the rate limit's wait), keeping the earlier of this and a timer already set. */
  private pumpAfter(ms: number): void {
    const at = Date.now() + Math.max(1, Math.ceil(ms));
    if (this.throttleTimer !== undefined && this.throttleWakeAt <= at) return;
    clearTimeout(this.throttleTimer);
    this.throttleWakeAt = at;
    this.throttleTimer = setTimeout(
      () => {
        this.throttleTimer = undefined;
        this.throttleWakeAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.min(at - Date.now(), MAX_TIMER_MS),
    );
  }

  /**
   * The head of a retry partition is not due yet: pause that partition and leave the record in Kafka, untaken,
   * until its not-before time. Nothing later in the partition starts ahead of it, so the committed position never
   * sits behind a completed retry (a crash cannot re-run a retry chain), and nothing waits in memory, so delayed
   * retries never count against the buffer that pauses the agent's topic. The cost: a due retry may wait behind
   * a longer delay at the head of its retry partition (see docs/delivery.md).
   */
  park(partition: number, notBefore: number): void {
    if (this.parked.has(partition)) return;
    // setTimeout holds at most 2^31-1 ms; a longer wait wakes up early, finds the head still not due, parks again.
    const waitMs = Math.min(Math.max(0, notBefore - Date.now()), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      if (this.parked.get(partition) !== timer) return;
      this.parked.delete(partition);
      this.options.syncPauses();
    }, waitMs);
    this.parked.set(partition, timer);
    this.options.syncPauses();
  }

  unpark(partition: number): void {
    clearTimeout(this.parked.get(partition));
    this.parked.delete(partition);
  }

  /** Drops the waiting records of one partition (it was revoked). */
  dropPartition(tp: string): void {
    this.queue.drop((record) => record.tp === tp);
  }

  /** Drops every waiting record and parked partition (a drain: they are fetched again by the next owner). */
  dropWaiting(): void {
    this.queue.drop(() => true);
    for (const partition of [...this.parked.keys()]) this.unpark(partition);
  }

  /** Arms the one timer per consumer that aborts deliveries running past `reclaimIdleMs`. */
  startDeadlineSweep(): void {
    const limit = this.options.reclaimIdleMs;
    const sweepMs = Math.min(1000, Math.max(10, Math.floor(limit / 4)));
    clearInterval(this.deadlineTimer);
    this.deadlineTimer = setInterval(() => {
      const now = performance.now();
      for (const delivery of this.running) {
        if (now - delivery.startedAt >= limit) delivery.abort(new DeadlineExceededError(limit), false);
      }
    }, sweepMs);
  }

  /** Disarms the sweep and forgets back-pressure (the consumer left its group; nothing is fetched). */
  idle(): void {
    clearInterval(this.deadlineTimer);
    this.deadlineTimer = undefined;
    clearTimeout(this.throttleTimer);
    this.throttleTimer = undefined;
    this.throttleWakeAt = Number.POSITIVE_INFINITY;
    this.pressure = false;
    // The queue is kept: keys and slots of aborted callbacks that are still running stay held across a resume.
  }

  /** Waits until no run is in progress, at most `timeoutMs`; true when none is left. */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.active.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await raceDeadline(Promise.allSettled([...this.active]), remaining);
    }
    return true;
  }

  /** Aborts every delivery whose callback is running (forced shutdown): nothing more is committed for them. */
  abortAll(reason: Error): void {
    for (const delivery of this.running) delivery.abort(reason, true);
  }

  started(delivery: Delivery, partition: PartitionState): void {
    partition.running.add(delivery);
    this.running.add(delivery);
  }

  ended(delivery: Delivery, partition: PartitionState, record: InboundRecord): void {
    partition.running.delete(delivery);
    this.running.delete(delivery);
    if (delivery.callbackRunning) {
      // Aborted, and the callback ignores its signal: the hand-off (retry, DLQ) goes on now, but the key, the slot
      // and the workdir stay with the callback until it settles (see untilSettled).
      this.lingering.set(record, delivery);
      void delivery.callbackSettled.then(() => delivery.dispose());
    } else {
      delivery.dispose();
    }
  }

  untilSettled(record: InboundRecord): Promise<void> | undefined {
    const delivery = this.lingering.get(record);
    return delivery && this.holdUntilSettled(record, delivery);
  }

  /**
   * Its key and concurrency slot are released only after this. A callback still running past the grace is given up
   * on (reported), so one deaf callback cannot hold its key forever; its workdir is removed if it ever settles.
   */
  private async holdUntilSettled(record: InboundRecord, delivery: Delivery): Promise<void> {
    const elapsed = performance.now() - (delivery.abortedAt ?? performance.now());
    const graceOver = new AbortController();
    const settled = await Promise.race([
      delivery.callbackSettled.then(() => true),
      // Unref'd: a deaf callback must not keep a stopping process alive.
      sleep(Math.max(0, this.options.abortGraceMs - elapsed), { signal: graceOver.signal, unref: true }).then(
        () => false,
      ),
    ]);
    graceOver.abort();
    this.lingering.delete(record);
    if (!settled) this.options.onCallbackAbandoned(delivery);
  }
}
