import { raceDeadline, StartStop, TIMED_OUT } from "@omnidaemon/lifecycle";
import type { Consumer, KafkaMessage } from "kafkajs";
import type { Logger } from "pino";
import type { KafkaConnection } from "../../config";
import { decodeHeaders, type RecordHeaders } from "../../headers";
import { createKafka } from "../../kafka-client";
import type { CommitOffset, GroupConsumer, GroupConsumerOptions, GroupMessage } from "../consumer";
import { assignersFor } from "./sticky-assigner";
import type { Ownership } from "../../engine/sticky-assignment";

/** A kafkajs message as a {@link GroupMessage}: its headers (Buffer | string | arrays) are decoded on first use. */
class KafkajsMessage implements GroupMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  private decoded: RecordHeaders | undefined;

  constructor(private readonly message: KafkaMessage) {
    this.offset = message.offset;
    this.key = message.key ?? null;
    this.value = message.value ?? null;
    this.timestamp = message.timestamp;
  }

  headers(): RecordHeaders {
    this.decoded ??= decodeHeaders(this.message.headers as Record<string, unknown> | undefined);
    return this.decoded;
  }
}

/**
 * {@link GroupConsumer} on kafkajs: the classic (eager) group protocol, with the package's sticky assignor so a
 * membership change moves only the partitions it must (see `engine/sticky-assignment.ts`). kafkajs fetches and
 * heartbeats in its own loop; `eachBatch` hands each partition's batch over and resolves only what was taken, so
 * the untaken tail is fetched again. kafkajs restarts itself after most crashes (`onCrash(…, true)`).
 */
export class KafkajsGroupConsumer implements GroupConsumer {
  private readonly consumer: Consumer;
  private readonly logger: Logger;
  /** The partitions last assigned: sent at every join so the sticky assignor keeps them here. */
  private owned: Ownership;
  // stop() does not wait for a start in progress: disconnecting is what cuts a start (a connect that retries while
  // the broker is away) short, and the start then disconnects after itself.
  private readonly lifecycle = new StartStop(
    "kafkajs group consumer",
    { start: () => this.doStart(), stop: (started) => this.doStop(started) },
    { startWaitMs: 0 },
  );

  constructor(
    connection: KafkaConnection,
    logger: Logger,
    private readonly options: GroupConsumerOptions,
  ) {
    this.logger = logger;
    this.owned = options.previousAssignment ?? {};
    const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
    this.consumer = createKafka(connection, logger).consumer({
      groupId: options.groupId,
      sessionTimeout,
      heartbeatInterval: options.heartbeatIntervalMs ?? 3000,
      rebalanceTimeout: options.rebalanceTimeoutMs ?? Math.max(sessionTimeout, 60_000),
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 100,
      ...(options.maxBytesPerPartition === undefined
        ? {}
        : { maxBytesPerPartition: options.maxBytesPerPartition }),
      allowAutoTopicCreation: false,
      retry: { retries: 10 },
      partitionAssigners: assignersFor(() => this.owned),
    });
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, (event) => {
      const assignment: Record<string, number[]> = {};
      for (const { topic } of options.topics) assignment[topic] = [];
      Object.assign(assignment, event.payload.memberAssignment);
      this.owned = assignment;
      options.onAssignment?.(assignment);
    });
    this.consumer.on(events.REBALANCING, () => options.onRevoking?.());
    this.consumer.on(events.FETCH, () => options.onFetch?.());
    this.consumer.on(events.CRASH, (event) => options.onCrash?.(event.payload.error, event.payload.restart));
  }

  /** Joins the group and runs the fetch loop. Idempotent; a failed start disconnects and may be tried again. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  private async doStart(): Promise<void> {
    const { options } = this;
    try {
      await this.consumer.connect();
      // kafkajs takes one `fromBeginning` per subscribe call.
      for (const fromBeginning of [true, false]) {
        const topics = options.topics.filter((t) => t.fromBeginning === fromBeginning).map((t) => t.topic);
        if (topics.length > 0) await this.consumer.subscribe({ topics, fromBeginning });
      }
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          const messages = batch.messages.map((message) => new KafkajsMessage(message));
          const taken = await options.onBatch({
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            messages,
            lastOffset: batch.lastOffset(),
            heartbeat,
          });
          // Once per batch: kafkajs parses and re-formats the offset on every call. What is not resolved is fetched
          // again (when the partition resumes, if it was paused).
          const last = taken > 0 ? batch.messages[Math.min(taken, messages.length) - 1] : undefined;
          if (last) resolveOffset(last.offset);
        },
      });
    } catch (error) {
      await this.consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  /** Leaves the group and disconnects (bounded by `stopTimeoutMs`). Idempotent; safe before start(). */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private async doStop(started: boolean): Promise<void> {
    if (!started) return;
    const stopTimeoutMs = this.options.stopTimeoutMs ?? 10_000;
    const disconnected = this.consumer.disconnect().catch((error: unknown) => {
      this.logger.warn({ err: error }, "consumer disconnect failed");
    });
    if ((await raceDeadline(disconnected, stopTimeoutMs)) === TIMED_OUT) {
      this.logger.warn({ stopTimeoutMs }, "consumer disconnect timed out; going on");
    }
  }

  pause(topic: string, partitions?: number[]): void {
    this.consumer.pause([partitions === undefined ? { topic } : { topic, partitions }]);
  }

  resume(topic: string, partitions?: number[]): void {
    this.consumer.resume([partitions === undefined ? { topic } : { topic, partitions }]);
  }

  seek(topic: string, partition: number, offset: string): void {
    this.consumer.seek({ topic, partition, offset });
  }

  commit(offsets: CommitOffset[]): Promise<void> {
    return this.consumer.commitOffsets(offsets);
  }
}
