// Long on purpose (about 450 lines): batching, the unknown-topic wait and the isolation of a refused record all act on
// the one queue and the one client (renewed after a failed batch); apart, they would share that private state.
import { raceDeadline, sleep, StartStop, TIMED_OUT, withDeadline } from "@omnidaemon/lifecycle";
import pino, { type Logger } from "pino";
import { parseKafkaConnection, type KafkaConnection, type KafkaConnectionInput } from "./config";
import { DEFAULT_MAX_ENVELOPE_BYTES, encodeEnvelope, keyOf, type Envelope } from "./envelope";
import { BusError } from "./errors";
import { HEADER, type RecordHeaders } from "./headers";
import { connectFailure } from "./connect-errors";
import type { AdminDriver } from "./driver/admin";
import { createAdminDriver, createProducerDriver } from "./driver/factories";
import { hasBrokerError, rejectionOf } from "./driver/errors";
import type { OutgoingRecord, ProducerDriver } from "./driver/producer";

export type { OutgoingRecord } from "./driver/producer";

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
  /**
   * How long a record for a topic this producer has not seen yet waits for the topic to exist before it is
   * rejected (the broker does not create topics on publish). @default 5000
   */
  unknownTopicWaitMs?: number;
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
 *
 * One caller's bad record never fails or holds up the others' (docs/delivery.md, "Publish failures"):
 * - a record for a topic not seen before waits aside (bounded by `unknownTopicWaitMs`) until the topic is known to
 *   exist, and is rejected if it never appears. It never reaches the Kafka client while unverified: kafkajs
 *   retries a missing topic for the whole publish timeout and then fails every later request (kafkajs#1622);
 * - a batch the broker refuses for one record's sake (too large, not authorized, topic gone) is re-sent per topic
 *   and then per record, so only the guilty record is rejected.
 * Such a rejection is a `BusError` with code `PUBLISH_REJECTED` and `retriable: false`; anything else (leader
 * moving, broker restarting, timeout) stays `PUBLISH_FAILED`, retriable.
 */
export class KafkaProducer implements Publisher {
  readonly name = "kafka-producer";
  private readonly logger: Logger;
  private readonly maxEnvelopeBytes: number;
  private readonly publishTimeoutMs: number;
  private readonly flushTimeoutMs: number;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private readonly unknownTopicWaitMs: number;
  private readonly connection: KafkaConnection;
  private producer: ProducerDriver | undefined;
  /**
   * Set after a failed request of several records: the broker may have appended some of them while the client rolled
   * back its sequence numbers, and a different record later sent under a reused sequence number would be dropped
   * by the broker as a duplicate. The next request goes through a fresh client (new producer id) instead.
   */
  private renewClient = false;
  private replacing: Promise<void> | undefined;
  /** Topics known to exist; records for other topics wait in `unverified` until they are checked. */
  private readonly knownTopics = new Set<string>();
  private readonly unverified = new Map<string, { deadline: number; records: Pending[] }>();
  /** One loop checks every waiting topic with one metadata request per round, however many topics wait. */
  private checking: Promise<void> | undefined;
  private wakeChecker: AbortController | undefined;
  /** A separate client for existence checks: its metadata requests never name a missing topic to the producer. */
  private admin: Promise<AdminDriver> | undefined;
  private queue: Pending[] = [];
  private sending: Promise<void> | undefined;
  private state: "new" | "running" | "stopping" | "stopped" = "new";
  private readonly lifecycle = new StartStop(
    this.name,
    { start: () => this.doStart(), stop: () => this.doStop() },
    { stoppedError: () => new BusError("STOPPED", "producer is stopped; build a new one") },
  );

  constructor(private readonly options: KafkaProducerOptions) {
    this.logger = (options.logger ?? pino({ level: "silent" })).child({ component: "kafka-producer" });
    this.connection = parseKafkaConnection(options.connection);
    this.maxEnvelopeBytes = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 30_000;
    this.flushTimeoutMs = options.flushTimeoutMs ?? 10_000;
    this.maxBatchRecords = options.maxBatchRecords ?? 1000;
    this.maxBatchBytes = options.maxBatchBytes ?? 900_000;
    this.unknownTopicWaitMs = options.unknownTopicWaitMs ?? 5000;
  }

  /** Connects. Idempotent; a failed start leaves nothing open and may be tried again. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  private async doStart(): Promise<void> {
    const producer = createProducerDriver(this.connection, this.logger);
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      // The first connection of most apps: a wrong password or CA shows here, named by its setting.
      throw connectFailure("producer", error, this.connection);
    }
    this.producer = producer;
    // stop() may have been called meanwhile: it waits for this start, then drains what was queued and stops.
    if (!this.lifecycle.stopped) this.state = "running";
    this.logger.info({}, "producer connected");
    if (this.unverified.size > 0) this.startChecking();
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
      // The tenant in a header too: consumers schedule fairly by tenant (docs/rate-limits.md) without parsing the
      // value first.
      headers: {
        ...(envelope.tenant_id ? { [HEADER.tenantId]: envelope.tenant_id } : {}),
        ...options.headers,
      },
    });
  }

  send(record: OutgoingRecord): Promise<void> {
    if (this.lifecycle.stopped) {
      return Promise.reject(new BusError("STOPPED", "producer is stopped; the record was not sent"));
    }
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { record, bytes: (record.value?.length ?? 0) + 128, resolve, reject };
      if (!this.knownTopics.has(record.topic)) {
        const waiting = this.unverified.get(record.topic);
        if (waiting) {
          waiting.records.push(pending);
          return;
        }
        this.unverified.set(record.topic, {
          deadline: Date.now() + this.unknownTopicWaitMs,
          records: [pending],
        });
        this.wakeChecker?.abort();
        if (this.state === "running") this.startChecking();
        return;
      }
      this.queue.push(pending);
      // Records queued before start() wait for it; records queued while a request is in flight ride the next one.
      if (this.state === "running" && this.sending === undefined) setImmediate(() => this.flush());
    });
  }

  private startChecking(): void {
    this.checking ??= this.checkTopics().finally(() => {
      this.checking = undefined;
      if (this.unverified.size > 0 && this.state === "running") this.startChecking();
    });
  }

  /**
   * Releases the records of topics found to exist into the queue; rejects those of topics still missing at their
   * deadline (or, when the broker could not be asked, as a retriable failure).
   */
  private async checkTopics(): Promise<void> {
    let pause = 50;
    while (this.unverified.size > 0) {
      const wake = new AbortController();
      this.wakeChecker = wake;
      let existing: Set<string> | undefined;
      let failure: unknown;
      try {
        existing = await this.existingTopics([...this.unverified.keys()]);
      } catch (error) {
        failure = error;
      }
      const now = Date.now();
      for (const [topic, { deadline, records }] of this.unverified) {
        if (existing?.has(topic)) {
          this.knownTopics.add(topic);
          this.queue.push(...records);
        } else if (now >= deadline || this.state === "stopped") {
          // Could not ask (broker unreachable) is no verdict on the topic: the callers may try again.
          const error = existing ? missingTopic(topic, this.unknownTopicWaitMs) : publishFailed(failure);
          this.logger.warn(
            { topic, records: records.length, err: error },
            "records not sent: topic not found",
          );
          for (const pending of records) pending.reject(error);
        } else {
          continue;
        }
        this.unverified.delete(topic);
      }
      this.flush();
      if (this.unverified.size === 0) return;
      // A topic that arrives meanwhile is checked at once; otherwise back off up to 1 s between rounds.
      await sleep(pause, { signal: wake.signal });
      pause = wake.signal.aborted ? 50 : Math.min(pause * 2, 1000);
    }
  }

  /** Which of `topics` exist. `listTopics` names no topic, so it cannot poison a client's metadata cache. */
  private async existingTopics(topics: string[]): Promise<Set<string>> {
    if (this.state === "stopped") throw new BusError("STOPPED", "producer is stopped");
    this.admin ??= (async () => {
      const admin = createAdminDriver(this.connection, this.logger);
      try {
        await admin.connect();
      } catch (error) {
        await admin.disconnect().catch(() => undefined);
        throw error;
      }
      return admin;
    })().catch((error: unknown) => {
      this.admin = undefined;
      throw error;
    });
    const admin = this.admin;
    const names = await withDeadline(
      admin.then((client) => client.listTopics()),
      this.publishTimeoutMs,
      () => new BusError("PUBLISH_FAILED", `topics not listed within ${this.publishTimeoutMs} ms`),
    );
    const all = new Set(names);
    return new Set(topics.filter((topic) => all.has(topic)));
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
    const error = await this.trySend(batch);
    if (error === undefined) {
      for (const pending of batch) pending.resolve();
      return;
    }
    const rejection = rejectionOf(error);
    // A single record refused for its own sake is rejected as is; an unknown topic is checked first (a stale
    // metadata cache says the same thing about a topic that exists).
    if (rejection === undefined || (batch.length === 1 && rejection !== "UNKNOWN_TOPIC_OR_PARTITION")) {
      this.fail(batch, error);
      return;
    }
    await this.isolate(batch);
  }

  /**
   * The broker refused the batch because of some of its records: find them. Records of topics that no longer exist
   * are rejected; the rest are re-sent one topic at a time, and a topic that still fails one record at a time.
   * Records the broker had already appended from the failed request may be written twice (at least once).
   */
  private async isolate(batch: Pending[]): Promise<void> {
    const topics = [...new Set(batch.map((pending) => pending.record.topic))];
    let existing: Set<string>;
    try {
      existing = await this.existingTopics(topics);
    } catch (error) {
      this.fail(batch, error);
      return;
    }
    const byTopic = new Map<string, Pending[]>();
    for (const pending of batch) {
      const { topic } = pending.record;
      if (!existing.has(topic)) {
        this.knownTopics.delete(topic);
        pending.reject(missingTopic(topic));
        continue;
      }
      const group = byTopic.get(topic) ?? [];
      group.push(pending);
      byTopic.set(topic, group);
    }
    for (const group of byTopic.values()) {
      const error = await this.trySend(group);
      if (error === undefined) {
        for (const pending of group) pending.resolve();
      } else if (group.length === 1 || rejectionOf(error) === undefined) {
        this.fail(group, error);
      } else {
        for (const pending of group) {
          const single = await this.trySend([pending]);
          if (single === undefined) pending.resolve();
          else this.fail([pending], single);
        }
      }
    }
  }

  /** One request for `batch`; resolves with the error instead of throwing. */
  private async trySend(batch: Pending[]): Promise<unknown> {
    try {
      if (this.renewClient) {
        this.replacing ??= this.replaceProducer().finally(() => {
          this.replacing = undefined;
        });
        await withDeadline(
          this.replacing,
          this.publishTimeoutMs,
          () => new BusError("PUBLISH_FAILED", `producer not reconnected within ${this.publishTimeoutMs} ms`),
        );
      }
      await this.sendWithDeadline(batch.map((pending) => pending.record));
      return undefined;
    } catch (error) {
      // kafkajs#1622: once any topic this client wrote to is deleted, every metadata refresh fails with
      // UNKNOWN_TOPIC_OR_PARTITION, for all topics; a fresh client forgets the deleted topic.
      if (batch.length > 1 || hasBrokerError(error, "UNKNOWN_TOPIC_OR_PARTITION")) this.renewClient = true;
      return error;
    }
  }

  private fail(batch: Pending[], error: unknown): void {
    // Missing topics were rejected by isolate(); an unknown topic that exists is the broker catching up.
    const rejection = rejectionOf(error);
    const failure =
      error instanceof BusError
        ? error
        : rejection === undefined || rejection === "UNKNOWN_TOPIC_OR_PARTITION"
          ? publishFailed(error)
          : new BusError(
              "PUBLISH_REJECTED",
              `the broker refused the record for topic "${batch[0]?.record.topic}" (${rejection}); ` +
                "sending it again cannot succeed",
              { cause: error, field: "topic" },
            );
    this.logger.warn({ err: error, records: batch.length, rejected: rejection }, "publish failed");
    for (const pending of batch) pending.reject(failure);
  }

  private sendWithDeadline(records: OutgoingRecord[]): Promise<void> {
    const producer = this.producer as ProducerDriver;
    return withDeadline(
      producer.send(records),
      this.publishTimeoutMs,
      () => new BusError("PUBLISH_FAILED", `publish not acknowledged within ${this.publishTimeoutMs} ms`),
    );
  }

  private async replaceProducer(): Promise<void> {
    const stale = this.producer;
    const fresh = createProducerDriver(this.connection, this.logger);
    try {
      await fresh.connect();
    } catch (error) {
      await fresh.disconnect().catch(() => undefined);
      throw error;
    }
    this.producer = fresh;
    this.renewClient = false;
    this.logger.info({}, "producer client replaced");
    await stale?.disconnect().catch(() => undefined);
  }

  /** Stops accepting records, waits (bounded) for queued ones, disconnects. Idempotent; safe before start(). */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  /** Runs once, after a start in progress settled: drains (bounded) what a started producer holds, disconnects. */
  private async doStop(): Promise<void> {
    this.state = "stopping";
    if (this.producer !== undefined) {
      this.flush();
      const drained = await raceDeadline(this.drain(), this.flushTimeoutMs);
      if (drained === TIMED_OUT)
        this.logger.warn({ queued: this.queue.length }, "producer flush deadline passed");
    }
    const unsent = [...this.queue.splice(0), ...[...this.unverified.values()].flatMap((w) => w.records)];
    this.unverified.clear();
    for (const pending of unsent) {
      pending.reject(new BusError("STOPPED", "producer stopped before the record was sent"));
    }
    await this.replacing?.catch(() => undefined);
    await this.producer?.disconnect().catch((error: unknown) => {
      this.logger.warn({ err: error }, "producer disconnect failed");
    });
    const admin = await this.admin?.catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    this.state = "stopped";
    this.logger.info({}, "producer stopped");
  }

  private async drain(): Promise<void> {
    // flush() chains batches until the queue is empty, and a settled check flushes what it released, so waiting
    // on whatever is in progress repeatedly is enough.
    for (;;) {
      const busy = [this.checking, this.sending].filter((p): p is Promise<void> => p !== undefined);
      if (busy.length === 0) return;
      await Promise.race(busy);
    }
  }
}

function missingTopic(topic: string, waitedMs?: number): BusError {
  const waited = waitedMs === undefined ? "" : ` (waited ${waitedMs} ms)`;
  return new BusError(
    "PUBLISH_REJECTED",
    `topic "${topic}" does not exist${waited} (UNKNOWN_TOPIC_OR_PARTITION); the broker does not create topics on publish`,
    { field: "topic" },
  );
}

function publishFailed(error: unknown): BusError {
  return error instanceof BusError
    ? error
    : new BusError("PUBLISH_FAILED", `publish failed: ${(error as Error).message}`, { cause: error });
}
