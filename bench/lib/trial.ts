// One measured consumer in its own process, so every trial starts with a fresh heap and JIT and a CPU profile
// (--cpu-prof) covers exactly one side. Started by bench/lib/spawn-trial.ts with the spec as JSON in argv[2]; sends
// one TrialMessage over IPC, closes everything it opened and exits by itself.
import { setTimeout as delay } from "node:timers/promises";
import { AgentConsumer, KafkaProducer } from "@omnidaemon/bus-kafka";
import { type Envelope } from "@omnidaemon/protocol";
import type { Consumer } from "kafkajs";
import { startBarePlatformatic } from "./bare-platformatic";
import type { TrialMessage, TrialResult, TrialSpec } from "./types";
import { withDeadline } from "@omnidaemon/lifecycle";
import { baselineKafka, reportToParent, trialConnection } from "./trial-child";

/** Records completion times and tells when the trial is done. */
class Recorder {
  readonly times: Float64Array;
  count = 0;
  duplicates = 0;
  firstAt: number | undefined;
  windowed = false;
  private readonly seen: Uint8Array;
  private resolveDone!: () => void;
  private rejectDone!: (error: Error) => void;
  readonly done = new Promise<void>((resolve, reject) => {
    this.resolveDone = resolve;
    this.rejectDone = reject;
  });
  private peakRss = 0;
  private readonly rssTimer: NodeJS.Timeout;
  private windowTimer: NodeJS.Timeout | undefined;

  constructor(private readonly spec: TrialSpec) {
    this.times = new Float64Array(spec.expected);
    this.seen = new Uint8Array(spec.expected);
    this.rssTimer = setInterval(() => this.sampleRss(), 100);
  }

  /** One handler finished; `index` identifies the record when the side can tell (engine), else undefined. */
  completed(index: number | undefined): void {
    if (index !== undefined) {
      if (this.seen[index] === 1) {
        this.duplicates++;
        return;
      }
      this.seen[index] = 1;
    }
    if (this.count >= this.spec.expected) return;
    const now = performance.now();
    this.times[this.count++] = now;
    if (this.firstAt === undefined) {
      this.firstAt = now;
      if (this.spec.maxMeasureMs !== undefined) {
        this.windowTimer = setTimeout(() => {
          this.windowed = true;
          this.finish();
        }, this.spec.maxMeasureMs);
      }
    }
    if (this.count === this.spec.expected) this.finish();
  }

  private finish(): void {
    clearTimeout(this.windowTimer);
    this.sampleRss();
    this.resolveDone();
  }

  /** The bench was interrupted: end the trial now (the consumer still stops cleanly and leaves its group). */
  interrupt(signal: string): void {
    this.rejectDone(new Error(`interrupted by ${signal}`));
  }

  sampleRss(): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
  }

  close(): void {
    clearInterval(this.rssTimer);
    clearTimeout(this.windowTimer);
  }

  result(startedAt: number, stopMs: number): TrialResult {
    const n = this.count;
    const times = this.times.subarray(0, n);
    const last = n > 0 ? (times[n - 1] as number) : startedAt;
    const lo = Math.floor(n * 0.1);
    const hi = Math.max(lo, Math.ceil(n * 0.9) - 1);
    const span = (times[hi] ?? 0) - (times[lo] ?? 0);
    return {
      label: this.spec.label,
      kind: this.spec.kind,
      client: this.spec.client,
      handled: n,
      duplicates: this.duplicates,
      firstMs: this.firstAt === undefined ? Number.NaN : this.firstAt - startedAt,
      totalMs: last - startedAt,
      endToEndRate: n / ((last - startedAt) / 1000),
      steadyRate: span > 0 ? (hi - lo) / (span / 1000) : Number.NaN,
      stopMs,
      peakRssMiB: this.peakRss / (1024 * 1024),
      windowed: this.windowed,
    };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return withDeadline(promise, ms, () => new Error(`${what} did not finish within ${ms} ms`));
}

async function runEngine(spec: TrialSpec, recorder: Recorder): Promise<TrialResult> {
  const connection = { ...trialConnection(spec.brokers), client: spec.client };
  // The engine needs a publisher (retries, DLQ, replies); a no-op agent never uses it, but a worker has one.
  const publisher = new KafkaProducer({ connection });
  await publisher.start();
  const delayMs = spec.handlerDelayMs;
  const consumer = new AgentConsumer({
    connection,
    topic: spec.topic,
    agent: spec.agent as string,
    publisher,
    commitIntervalMs: spec.commitIntervalMs,
    maxWaitTimeMs: spec.maxWaitTimeMs,
    config: spec.concurrency === undefined ? {} : { concurrency: spec.concurrency },
    ...(spec.maxBufferedRecords === undefined ? {} : { maxBufferedRecords: spec.maxBufferedRecords }),
    handler:
      delayMs > 0
        ? async (envelope: Envelope) => {
            await delay(delayMs);
            recorder.completed((envelope.content as { i: number }).i);
          }
        : (envelope: Envelope) => {
            recorder.completed((envelope.content as { i: number }).i);
          },
  });
  try {
    const startedAt = performance.now();
    await consumer.start();
    await withTimeout(recorder.done, spec.timeoutMs, spec.label);
    const stopAt = performance.now();
    await consumer.stop();
    return recorder.result(startedAt, performance.now() - stopAt);
  } finally {
    await consumer.stop().catch(() => undefined);
    await publisher.stop().catch(() => undefined);
  }
}

/** Where decoded values go, so the JIT cannot drop the JSON.parse. */
export let sink: unknown;

async function runBaseline(spec: TrialSpec, recorder: Recorder): Promise<TrialResult> {
  const kafka = baselineKafka(spec.brokers);
  // The engine's consumer settings (agent-consumer.ts startConsuming), so only what runs per record differs.
  const consumer: Consumer = kafka.consumer({
    groupId: spec.groupId as string,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    rebalanceTimeout: 60_000,
    maxWaitTimeInMs: spec.maxWaitTimeMs,
    allowAutoTopicCreation: false,
    retry: { retries: 10 },
  });
  const pending = new Map<number, string>();
  let committing: Promise<void> | undefined;
  const commit = (): Promise<void> => {
    if (committing || pending.size === 0) return committing ?? Promise.resolve();
    const offsets = [...pending].map(([partition, offset]) => ({ topic: spec.topic, partition, offset }));
    pending.clear();
    committing = consumer
      .commitOffsets(offsets)
      .catch(() => {
        for (const { partition, offset } of offsets)
          if (!pending.has(partition)) pending.set(partition, offset);
      })
      .finally(() => {
        committing = undefined;
      });
    return committing;
  };
  let commitTimer: NodeJS.Timeout | undefined;
  const delayMs = spec.handlerDelayMs;
  const decode = spec.decodeJson === true;
  try {
    const startedAt = performance.now();
    await consumer.connect();
    await consumer.subscribe({ topics: [spec.topic], fromBeginning: true });
    if (spec.baselineMode === "eachMessage") {
      await consumer.run({
        autoCommitInterval: spec.commitIntervalMs,
        partitionsConsumedConcurrently: spec.partitionsConsumedConcurrently ?? 1,
        eachMessage: async () => {
          if (delayMs > 0) await delay(delayMs);
          recorder.completed(undefined);
        },
      });
    } else {
      // The engine's commit policy: no auto-commit; after a batch, its last offset + 1 is pending for its
      // partition, and one commit request for all partitions goes out every commitIntervalMs.
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: spec.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            if (decode) sink = JSON.parse((message.value as Buffer).toString("utf8")) as unknown;
            if (delayMs > 0) await delay(delayMs);
            recorder.completed(undefined);
          }
          pending.set(batch.partition, (BigInt(batch.lastOffset()) + 1n).toString());
        },
      });
      commitTimer = setInterval(() => void commit(), spec.commitIntervalMs);
    }
    await withTimeout(recorder.done, spec.timeoutMs, spec.label);
    const stopAt = performance.now();
    clearInterval(commitTimer);
    await consumer.stop();
    await committing;
    await commit();
    await consumer.disconnect();
    return recorder.result(startedAt, performance.now() - stopAt);
  } finally {
    clearInterval(commitTimer);
    await consumer.disconnect().catch(() => undefined);
  }
}

/**
 * The bare @platformatic/kafka consumer with the engine's commit policy (B1's baseline on that client): every record
 * handled in order, its offset + 1 pending for its partition, one commit of every pending partition per interval.
 */
async function runBarePlatformatic(spec: TrialSpec, recorder: Recorder): Promise<TrialResult> {
  if (spec.baselineMode === "eachMessage" || spec.handlerDelayMs > 0) {
    throw new Error(
      `${spec.label}: the bare platformatic baseline runs only the engine's commit policy, no handler delay`,
    );
  }
  const decode = spec.decodeJson === true;
  const startedAt = performance.now();
  const consumer = await startBarePlatformatic({
    connection: trialConnection(spec.brokers),
    groupId: spec.groupId as string,
    topic: spec.topic,
    groupProtocol: spec.groupProtocol ?? "consumer",
    startAt: "earliest",
    maxWaitTimeMs: spec.maxWaitTimeMs,
    commit: { everyMs: spec.commitIntervalMs },
    onRecord: decode
      ? (value) => {
          sink = JSON.parse(value.toString("utf8")) as unknown;
          recorder.completed(undefined);
        }
      : () => recorder.completed(undefined),
  });
  try {
    await withTimeout(recorder.done, spec.timeoutMs, spec.label);
    const stopAt = performance.now();
    await consumer.stop();
    return recorder.result(startedAt, performance.now() - stopAt);
  } finally {
    await consumer.stop();
  }
}

function runSide(spec: TrialSpec, recorder: Recorder): Promise<TrialResult> {
  if (spec.kind === "engine") return runEngine(spec, recorder);
  return spec.client === "platformatic" ? runBarePlatformatic(spec, recorder) : runBaseline(spec, recorder);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as TrialSpec;
  const recorder = new Recorder(spec);
  // Ctrl-C reaches the whole process group; the orchestrator sends SIGTERM. Either way: stop cleanly, then exit.
  process.on("SIGINT", () => recorder.interrupt("SIGINT"));
  process.on("SIGTERM", () => recorder.interrupt("SIGTERM"));
  let message: TrialMessage;
  try {
    const result = await runSide(spec, recorder);
    message = { type: "result", result };
  } catch (error) {
    message = {
      type: "error",
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  } finally {
    recorder.close();
  }
  await reportToParent(message);
}

void main();
