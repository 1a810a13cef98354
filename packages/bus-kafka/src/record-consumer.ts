import type { Consumer, Kafka } from "kafkajs";
import pino, { type Logger } from "pino";
import type { KafkaConnectionInput } from "./config";
import { createKafka } from "./kafka-client";

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
  /** How kafkajs retries a failing batch before it gives up. @default { retries: 8, initialRetryTime: 500, maxRetryTime: 30000 } */
  retry?: { retries: number; initialRetryTime: number; maxRetryTime: number };
  /** Backoff between restarts after kafkajs gave up, doubling up to `max`. @default { initial: 1000, max: 30000 } */
  restartDelayMs?: { initial: number; max: number };
  /** Partitions whose batches are handled at the same time (each partition's batches stay in order). @default 1 */
  partitionsConsumedConcurrently?: number;
  /** Most bytes fetched per partition per request: bounds a batch. @default 1 MiB (kafkajs) */
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
 * is committed only after `handle` resolved, and a failing `handle` (Postgres down) is retried by kafkajs with
 * backoff. When kafkajs gives up (a non-retriable error, or a crash it does not restart from), the consumer is
 * rebuilt after a backoff: it never stays stopped while its process runs, and never skips the failed batch.
 */
export class RecordConsumer {
  readonly name: string;
  private readonly logger: Logger;
  private kafka: Kafka | undefined;
  private consumer: Consumer | undefined;
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private lastBatchAt: number | undefined;
  private running = false;
  private restarts = 0;
  private lastError: string | undefined;
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

  start(): Promise<void> {
    if (this.stopPromise !== undefined) return Promise.reject(new Error(`${this.name} was stopped`));
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    this.kafka = createKafka(this.options.connection, this.logger);
    await this.runConsumer();
  }

  /** Builds, connects and runs one kafkajs consumer; a crash it will not restart from schedules a rebuild. */
  private async runConsumer(): Promise<void> {
    const consumer = (this.kafka as Kafka).consumer({
      groupId: this.options.groupId,
      maxWaitTimeInMs: 200,
      ...(this.options.maxBytesPerPartition === undefined
        ? {}
        : { maxBytesPerPartition: this.options.maxBytesPerPartition }),
      retry: this.options.retry ?? DEFAULT_RETRY,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.lastError = payload.error.message;
      if (payload.restart) {
        this.logger.warn({ err: payload.error }, "consumer crashed; kafkajs restarts it");
        return;
      }
      this.running = false;
      this.logger.error(
        { err: payload.error },
        "consumer crashed and stopped; rebuilding it after a backoff",
      );
      this.scheduleRestart(consumer);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({
        topic: this.options.topic,
        fromBeginning: this.options.fromBeginning ?? true,
      });
      await consumer.run({
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
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
          if (records.length > 0) await this.options.handle(records);
          const last = batch.messages.at(-1);
          if (last) resolveOffset(last.offset);
          this.lastBatchAt = Date.now();
          // A batch went through: the next crash starts the backoff from the beginning again.
          this.nextRestartDelayMs = (this.options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS).initial;
          await commitOffsetsIfNecessary();
          await heartbeat();
        },
      });
      this.running = true;
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private scheduleRestart(crashed: Consumer): void {
    if (this.stopPromise !== undefined || this.restartTimer !== undefined) return;
    const delayMs = this.nextRestartDelayMs;
    const { max } = this.options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS;
    this.nextRestartDelayMs = Math.min(max, delayMs * 2);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restarting = this.restart(crashed);
    }, delayMs);
  }

  private async restart(crashed: Consumer): Promise<void> {
    await crashed.disconnect().catch((error: unknown) => this.logger.warn({ err: error }, "disconnect"));
    if (this.stopPromise !== undefined) return;
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
    this.stopPromise ??= (async () => {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      await this.startPromise?.catch(() => undefined);
      await this.restarting?.catch(() => undefined);
      this.running = false;
      await this.consumer
        ?.disconnect()
        .catch((error: unknown) => this.logger.warn({ err: error }, "disconnect"));
    })();
    return this.stopPromise;
  }
}
