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
}

/**
 * A plain at-least-once JSON consumer for the fleet's own topics (the coordinator's task-events reader): a batch
 * is committed only after `handle` resolved, and a failing `handle` (Postgres down) is retried by kafkajs with
 * backoff — the consumer restarts itself rather than skipping anything.
 */
export class RecordConsumer {
  readonly name: string;
  private readonly logger: Logger;
  private kafka: Kafka | undefined;
  private consumer: Consumer | undefined;
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private lastBatchAt: number | undefined;

  constructor(private readonly options: RecordConsumerOptions) {
    this.name = `record-consumer:${options.topic}`;
    this.logger = (options.logger ?? pino({ level: "silent" })).child({
      component: "record-consumer",
      topic: options.topic,
    });
  }

  /** Epoch ms of the last batch handled. */
  get lastHandledAt(): number | undefined {
    return this.lastBatchAt;
  }

  start(): Promise<void> {
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    this.kafka = createKafka(this.options.connection, this.logger);
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      maxWaitTimeInMs: 200,
      retry: { retries: 8, initialRetryTime: 500, maxRetryTime: 30_000 },
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({
      topic: this.options.topic,
      fromBeginning: this.options.fromBeginning ?? true,
    });
    await consumer.run({
      eachBatchAutoResolve: false,
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
        await commitOffsetsIfNecessary();
        await heartbeat();
      },
    });
  }

  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      await this.startPromise?.catch(() => undefined);
      await this.consumer
        ?.disconnect()
        .catch((error: unknown) => this.logger.warn({ err: error }, "disconnect"));
    })();
    return this.stopPromise;
  }
}
