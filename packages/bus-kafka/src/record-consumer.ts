import { sleep, StartStop } from "@omnidaemon/lifecycle";
import pino, { type Logger } from "pino";
import type { KafkaConnectionInput } from "./config";
import { type GroupBatch, type GroupConsumer } from "./driver/consumer";
import { createGroupConsumer } from "./driver/factories";
import { backoffMs } from "./engine/backoff";

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** The value parsed as JSON; records that are not JSON are logged and skipped. */
  value: unknown;
}

export interface RecordConsumerOptions {
  connection: KafkaConnectionInput;
  topic: string;
  groupId: string;
  /** Handles one fetched batch of one partition; offsets are committed only after it resolves. */
  handle: (records: ConsumedRecord[]) => Promise<void>;
  logger?: Logger;
  /** @default true */
  fromBeginning?: boolean;
  /**
   * How a failing `handle` is retried, in place, before the consumer gives up on the batch and is rebuilt (an error
   * with `retriable: false` gives up at once). Delays double from `initialRetryTime` up to `maxRetryTime`.
   * @default { retries: 8, initialRetryTime: 500, maxRetryTime: 30000 }
   */
  retry?: { retries: number; initialRetryTime: number; maxRetryTime: number };
  /** Backoff between rebuilds of the consumer, doubling up to `max`. @default { initial: 1000, max: 30000 } */
  restartDelayMs?: { initial: number; max: number };
  /** Partitions whose batches are handled at the same time (each partition's batches stay in order). @default 1 */
  partitionsConsumedConcurrently?: number;
  /** Most bytes fetched per partition per request: bounds a batch. @default 1 MiB */
  maxBytesPerPartition?: number;
}

/** What `status()` reports, for health: is the consumer consuming, how often it had to be restarted, and why. */
export interface RecordConsumerStatus {
  running: boolean;
  restarts: number;
  /** The error of the last crash, if there was one. */
  lastError?: string;
  /** Epoch ms of the last batch handled. */
  lastHandledAt?: number;
}

const DEFAULT_RETRY = { retries: 8, initialRetryTime: 500, maxRetryTime: 30_000 };
const DEFAULT_RESTART_DELAY_MS = { initial: 1000, max: 30_000 };

/**
 * A plain at-least-once JSON consumer for the fleet's own topics (the coordinator's task-events reader): a batch
 * is committed only after `handle` resolved, and a failing `handle` (Postgres down) is retried with backoff. When
 * it gives up (a non-retriable error, retries exhausted) or the consumer crashes for good, the consumer is rebuilt
 * after a backoff: it never stays stopped while its process runs, and never skips the failed batch.
 */
export class RecordConsumer {
  readonly name: string;
  private readonly logger: Logger;
  private consumer: GroupConsumer | undefined;
  private readonly lifecycle: StartStop;
  /** Aborted by stop(): a handle being retried stops waiting. */
  private readonly stopping = new AbortController();
  private lastBatchAt: number | undefined;
  private running = false;
  private restarts = 0;
  private lastError: string | undefined;
  /** The consumer that gave up on a batch: it takes nothing more until it is replaced. */
  private abandoned: GroupConsumer | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarting: Promise<void> | undefined;
  private nextRestartDelayMs: number;

  constructor(private readonly options: RecordConsumerOptions) {
    this.name = `record-consumer:${options.topic}`;
    this.logger = (options.logger ?? pino({ level: "silent" })).child({
      component: "record-consumer",
      topic: options.topic,
    });
    this.nextRestartDelayMs = (options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS).initial;
    this.lifecycle = new StartStop(
      this.name,
      { start: () => this.runConsumer(), stop: () => this.doStop() },
      { stoppedError: () => new Error(`${this.name} was stopped`) },
    );
  }

  /** Epoch ms of the last batch handled. */
  get lastHandledAt(): number | undefined {
    return this.lastBatchAt;
  }

  status(): RecordConsumerStatus {
    return {
      running: this.running,
      restarts: this.restarts,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.lastBatchAt === undefined ? {} : { lastHandledAt: this.lastBatchAt }),
    };
  }

  /** Joins the group and starts consuming. Idempotent; a failed start leaves nothing open and may be tried again. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /** Builds and starts one group consumer; a crash it will not recover from schedules a rebuild. */
  private async runConsumer(): Promise<void> {
    const consumer: GroupConsumer = createGroupConsumer(this.options.connection, this.logger, {
      groupId: this.options.groupId,
      topics: [{ topic: this.options.topic, fromBeginning: this.options.fromBeginning ?? true }],
      maxWaitTimeMs: 200,
      partitionsConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      ...(this.options.maxBytesPerPartition === undefined
        ? {}
        : { maxBytesPerPartition: this.options.maxBytesPerPartition }),
      onBatch: (batch) => this.onBatch(consumer, batch),
      onCrash: (error, restarting) => {
        if (this.consumer !== consumer) return;
        this.lastError = error instanceof Error ? error.message : String(error);
        if (restarting) {
          this.logger.warn({ err: error }, "consumer crashed; its driver restarts it");
          return;
        }
        this.giveUp(consumer, error);
      },
    });
    this.consumer = consumer;
    try {
      await consumer.start();
      this.running = true;
    } catch (error) {
      await consumer.stop().catch(() => undefined);
      throw error;
    }
  }

  private async onBatch(consumer: GroupConsumer, batch: GroupBatch): Promise<number> {
    if (this.consumer !== consumer || this.abandoned === consumer) return 0;
    const records: ConsumedRecord[] = [];
    for (const message of batch.messages) {
      let value: unknown;
      try {
        value = message.value === null ? null : JSON.parse(message.value.toString("utf8"));
      } catch (error) {
        this.logger.warn({ err: error, offset: message.offset }, "skipping a record that is not JSON");
        continue;
      }
      records.push({
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        key: message.key?.toString("utf8") ?? null,
        value,
      });
    }
    if (records.length > 0) {
      const failure = await this.handleWithRetry(records, batch);
      if (failure !== undefined) {
        // Nothing of the batch is taken: stop fetching it now, and rebuild the consumer after a backoff; the new
        // one starts from the last commit, so the batch is handled again.
        if (this.consumer === consumer && this.abandoned !== consumer) {
          this.pauseQuietly(consumer, batch.topic);
          this.giveUp(consumer, failure);
        }
        return 0;
      }
    }
    this.lastBatchAt = Date.now();
    // A batch went through: the next crash starts the backoff from the beginning again.
    this.nextRestartDelayMs = (this.options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS).initial;
    const last = batch.messages.at(-1);
    if (last) {
      await consumer
        .commit([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() },
        ])
        .catch((error: unknown) => {
          // The batch was handled: at worst it is handled again after a rebalance (at-least-once).
          this.logger.warn({ err: error, partition: batch.partition }, "offset commit failed");
        });
    }
    await batch.heartbeat();
    return batch.messages.length;
  }

  /** Undefined once `handle` succeeded; the last error when it gave up. */
  private async handleWithRetry(records: ConsumedRecord[], batch: GroupBatch): Promise<unknown> {
    const retry = this.options.retry ?? DEFAULT_RETRY;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.handle(records);
        return undefined;
      } catch (error) {
        const retriable = (error as { retriable?: unknown } | null)?.retriable !== false;
        if (!retriable || attempt > retry.retries || this.stopping.signal.aborted) return error;
        const waitMs = backoffMs(attempt, retry.initialRetryTime, retry.maxRetryTime);
        this.logger.warn(
          { err: error, attempt, waitMs, partition: batch.partition },
          "handling a batch failed; retrying",
        );
        await sleep(waitMs, { signal: this.stopping.signal });
        // Long retries must not cost the group membership (kafkajs heartbeats only when told to).
        await batch.heartbeat().catch(() => undefined);
      }
    }
  }

  private pauseQuietly(consumer: GroupConsumer, topic: string): void {
    try {
      consumer.pause(topic);
    } catch {
      // Between a crash and its restart kafkajs cannot pause; the consumer is being replaced anyway.
    }
  }

  private giveUp(consumer: GroupConsumer, error: unknown): void {
    this.abandoned = consumer;
    this.running = false;
    this.lastError = error instanceof Error ? error.message : String(error);
    this.logger.error({ err: error }, "consumer crashed and stopped; rebuilding it after a backoff");
    this.scheduleRestart(consumer);
  }

  private scheduleRestart(crashed: GroupConsumer): void {
    if (this.lifecycle.stopped || this.restartTimer !== undefined) return;
    const delayMs = this.nextRestartDelayMs;
    const { max } = this.options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS;
    this.nextRestartDelayMs = Math.min(max, delayMs * 2);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restarting = this.restart(crashed);
    }, delayMs);
  }

  private async restart(crashed: GroupConsumer): Promise<void> {
    await crashed.stop().catch((error: unknown) => this.logger.warn({ err: error }, "disconnect"));
    if (this.lifecycle.stopped) return;
    this.restarts += 1;
    try {
      await this.runConsumer();
      this.logger.info({ restarts: this.restarts }, "consumer restarted");
    } catch (error) {
      this.lastError = (error as Error).message;
      this.logger.error({ err: error }, "consumer restart failed; trying again after a backoff");
      if (this.consumer !== undefined) this.scheduleRestart(this.consumer);
    }
  }

  stop(): Promise<void> {
    // A handle being retried stops waiting at once, before the stop waits for a start in progress.
    this.stopping.abort();
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    return this.lifecycle.stop();
  }

  private async doStop(): Promise<void> {
    await this.restarting?.catch(() => undefined);
    this.running = false;
    await this.consumer?.stop().catch((error: unknown) => this.logger.warn({ err: error }, "disconnect"));
  }
}
