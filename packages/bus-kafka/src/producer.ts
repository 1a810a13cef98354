import type { Kafka, Producer as KafkajsProducer, Message } from "kafkajs";
import pino, { type Logger } from "pino";
import { parseKafkaConnection, type KafkaConnectionInput } from "./config";
import { DEFAULT_MAX_ENVELOPE_BYTES, encodeEnvelope, keyOf, type Envelope } from "./envelope";
import { BusError } from "./errors";
import type { RecordHeaders } from "./headers";
import { connectFailure } from "./connect-errors";
import { createKafka } from "./kafka-client";
import { hasType } from "./kafka-errors";
import { withDeadline } from "./util/deadline";

/** One record as the bus writes it; the value is already encoded. */
export interface OutgoingRecord {
  topic: string;
  key: string | null;
  value: Buffer | null;
  headers?: RecordHeaders;
  /** Explicit partition (used by the DLQ replay ledger); otherwise the key decides. */
  partition?: number;
}

/** The port everything that publishes depends on; `KafkaProducer` is its Kafka implementation. */
export interface Publisher {
  /** Publishes an envelope (key: explicit, else correlation id, else task id) and waits for acks=all. */
  publish(envelope: Envelope, options?: { key?: string; headers?: RecordHeaders }): Promise<void>;
  /** Publishes an already-encoded record and waits for acks=all. */
  send(record: OutgoingRecord): Promise<void>;
}

export interface KafkaProducerOptions {
  connection: KafkaConnectionInput;
  logger?: Logger;
  /** Largest serialized envelope accepted. @default 1048576 (1 MiB) */
  maxEnvelopeBytes?: number;
  /** Upper bound for one publish, including broker retries; the send may still land later (at-least-once). @default 30000 */
  publishTimeoutMs?: number;
  /** How long `stop()` waits for queued records to be acknowledged. @default 10000 */
  flushTimeoutMs?: number;
  /** Most records in one produce request. @default 1000 */
  maxBatchRecords?: number;
  /** Most bytes in one produce request (below the broker's default 1 MiB request-batch limit). @default 900000 */
  maxBatchBytes?: number;
}

interface Pending {
  record: OutgoingRecord;
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Idempotent, acks=all producer with automatic batching: records published while a request is in flight are sent
 * together in the next one. Under load that is one request per round trip however many callers publish; at low
 * load each record goes out at once (no linger delay).
 */
export class KafkaProducer implements Publisher {
  readonly name = "kafka-producer";
  private readonly logger: Logger;
  private readonly maxEnvelopeBytes: number;
  private readonly publishTimeoutMs: number;
  private readonly flushTimeoutMs: number;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private kafka: Kafka | undefined;
  private producer: KafkajsProducer | undefined;
  private queue: Pending[] = [];
  private sending: Promise<void> | undefined;
  private state: "new" | "starting" | "running" | "stopping" | "stopped" = "new";
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;

  constructor(private readonly options: KafkaProducerOptions) {
    this.logger = (options.logger ?? pino({ level: "silent" })).child({ component: "kafka-producer" });
    this.maxEnvelopeBytes = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 30_000;
    this.flushTimeoutMs = options.flushTimeoutMs ?? 10_000;
    this.maxBatchRecords = options.maxBatchRecords ?? 1000;
    this.maxBatchBytes = options.maxBatchBytes ?? 900_000;
  }

  start(): Promise<void> {
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    this.state = "starting";
    this.kafka = createKafka(this.options.connection, this.logger);
    // One request in flight keeps the idempotent producer's sequence numbers in order; batching recovers throughput.
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    try {
      await this.producer.connect();
    } catch (error) {
      // The first connection of most apps: a wrong password or CA shows here, named by its setting.
      throw connectFailure("producer", error, parseKafkaConnection(this.options.connection));
    }
    this.state = "running";
    this.logger.info({}, "producer connected");
    this.flush();
  }

  publish(envelope: Envelope, options: { key?: string; headers?: RecordHeaders } = {}): Promise<void> {
    let value: Buffer;
    try {
      value = encodeEnvelope(envelope, this.maxEnvelopeBytes);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send({
      topic: envelope.topic,
      key: keyOf(envelope, options.key),
      value,
      headers: { ...options.headers },
    });
  }

  send(record: OutgoingRecord): Promise<void> {
    if (this.state === "stopping" || this.state === "stopped") {
      return Promise.reject(new BusError("STOPPED", "producer is stopped; the record was not sent"));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, bytes: (record.value?.length ?? 0) + 128, resolve, reject });
      // Records queued before start() wait for it; records queued while a request is in flight ride the next one.
      if (this.state === "running" && this.sending === undefined) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    if (this.sending !== undefined || this.queue.length === 0 || this.producer === undefined) return;
    const batch = this.takeBatch();
    this.sending = this.sendBatch(batch).finally(() => {
      this.sending = undefined;
      this.flush();
    });
  }

  private takeBatch(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && count < this.maxBatchRecords) {
      const next = this.queue[count] as Pending;
      if (count > 0 && bytes + next.bytes > this.maxBatchBytes) break;
      bytes += next.bytes;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const { record } of batch) {
      const messages = byTopic.get(record.topic) ?? [];
      messages.push({
        key: record.key,
        value: record.value,
        headers: record.headers,
        ...(record.partition === undefined ? {} : { partition: record.partition }),
      });
      byTopic.set(record.topic, messages);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    try {
      try {
        await this.sendWithDeadline(topicMessages);
      } catch (error) {
        // kafkajs#1622: once any topic this client wrote to is deleted, every metadata refresh fails with
        // UNKNOWN_TOPIC_OR_PARTITION, for all topics. A fresh client forgets the deleted topic; one retry tells a
        // stale cache (now fixed) from a batch that really targets a missing topic (fails again, reported).
        if (!hasType(error, "UNKNOWN_TOPIC_OR_PARTITION")) throw error;
        await this.replaceProducer();
        await this.sendWithDeadline(topicMessages);
      }
      for (const pending of batch) pending.resolve();
    } catch (error) {
      const failure =
        error instanceof BusError
          ? error
          : new BusError("PUBLISH_FAILED", `publish failed: ${(error as Error).message}`, { cause: error });
      this.logger.warn({ err: error, records: batch.length }, "publish failed");
      for (const pending of batch) pending.reject(failure);
    }
  }

  private sendWithDeadline(topicMessages: Array<{ topic: string; messages: Message[] }>): Promise<unknown> {
    const producer = this.producer as KafkajsProducer;
    return withDeadline(
      producer.sendBatch({ acks: -1, topicMessages }),
      this.publishTimeoutMs,
      () => new BusError("PUBLISH_FAILED", `publish not acknowledged within ${this.publishTimeoutMs} ms`),
    );
  }

  private async replaceProducer(): Promise<void> {
    const stale = this.producer;
    this.kafka = createKafka(this.options.connection, this.logger);
    const fresh = this.newProducer(this.kafka);
    await fresh.connect();
    this.producer = fresh;
    this.logger.info({}, "producer client replaced after a topic deletion");
    await stale?.disconnect().catch(() => undefined);
  }

  private newProducer(kafka: Kafka): KafkajsProducer {
    // One request in flight keeps the idempotent producer's sequence numbers in order; batching recovers throughput.
    return kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  /** Stops accepting records, waits (bounded) for queued ones, disconnects. Idempotent; safe before start(). */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    const wasRunning = this.state === "running" || this.state === "starting";
    this.state = "stopping";
    if (wasRunning) {
      await this.startPromise?.catch(() => undefined);
      if (this.producer !== undefined) {
        this.flush();
        const drained = await withDeadline(
          this.drain().then(() => true),
          this.flushTimeoutMs,
          () => undefined,
        );
        if (!drained) this.logger.warn({ queued: this.queue.length }, "producer flush deadline passed");
      }
    }
    for (const pending of this.queue.splice(0)) {
      pending.reject(new BusError("STOPPED", "producer stopped before the record was sent"));
    }
    await this.producer?.disconnect().catch((error: unknown) => {
      this.logger.warn({ err: error }, "producer disconnect failed");
    });
    this.state = "stopped";
    this.logger.info({}, "producer stopped");
  }

  private async drain(): Promise<void> {
    // flush() chains batches until the queue is empty, so waiting on the in-flight one repeatedly is enough.
    while (this.sending !== undefined) await this.sending;
  }
}
