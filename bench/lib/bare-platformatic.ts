// A bare @platformatic/kafka consumer: the baseline of the platformatic client, as the bare kafkajs consumer in
// trial.ts and latency-trial.ts is kafkajs's. Baseline code is the one place outside packages/bus-kafka that may
// import a Kafka client directly (bench/README.md). The module is ESM-only; bus-kafka's own loader (require(esm),
// Node 20.19+) and connection mapping are reused, so the baseline reaches the broker with the same brokers, TLS,
// SASL and timeouts as the bus's platformatic driver. Those two are internal to bus-kafka, hence the relative paths.
import type { KafkaConnection } from "@omnidaemon/bus-kafka";
import { platformaticBaseOptions } from "../../packages/bus-kafka/src/driver/platformatic/connection";
import { platformatic, type Platformatic } from "../../packages/bus-kafka/src/driver/platformatic/load";
import type { GroupProtocol } from "./types";

export interface BarePlatformaticOptions {
  connection: KafkaConnection;
  groupId: string;
  topic: string;
  /** KIP-848 ("consumer", server-side assignment) or the classic protocol (client-side assignment). */
  groupProtocol: GroupProtocol;
  /** Where a new group starts reading: the beginning (a pre-loaded topic) or the end (records published later). */
  startAt: "earliest" | "latest";
  /** Fetch wait (`maxWaitTime`), the same as the other sides of the scenario. */
  maxWaitTimeMs: number;
  /**
   * `{ everyMs }`: after each record its offset + 1 is pending for its partition, and one commit of every pending
   * partition goes out every `everyMs` (the engine's policy, as the bare kafkajs eachBatch baseline does it).
   * "per-fetch": the client's autocommit after every fetch (as kafkajs's eachMessage default commits per batch).
   */
  commit: { everyMs: number } | "per-fetch";
  /** Called synchronously for each record, in partition order. */
  onRecord: (value: Buffer) => void;
}

export interface BarePlatformatic {
  /** Stops fetching, sends the last pending commit, leaves the group and closes the client. */
  stop(): Promise<void>;
}

/** kafkajs's fetch defaults, so both bare clients ask the broker for the same amounts. */
const MAX_BYTES = 10 * 1024 * 1024;
const MAX_BYTES_PER_PARTITION = 1024 * 1024;

export async function startBarePlatformatic(options: BarePlatformaticOptions): Promise<BarePlatformatic> {
  const kafka = platformatic();
  const group: Platformatic.ConsumerOptions<Buffer, Buffer, Buffer, Buffer> =
    options.groupProtocol === "consumer"
      ? {
          ...platformaticBaseOptions(options.connection),
          groupId: options.groupId,
          groupProtocol: "consumer",
        }
      : {
          ...platformaticBaseOptions(options.connection),
          groupId: options.groupId,
          groupProtocol: "classic",
          // The engine's session settings (agent-consumer.ts), like the bare kafkajs baseline.
          sessionTimeout: 30_000,
          heartbeatInterval: 3000,
          rebalanceTimeout: 60_000,
        };
  const consumer = new kafka.Consumer<Buffer, Buffer, Buffer, Buffer>(group);
  const pending = new Map<number, bigint>();
  let committing: Promise<void> | undefined;
  const commit = (): Promise<void> => {
    if (committing || pending.size === 0) return committing ?? Promise.resolve();
    // -1: no leader epoch known (the message does not carry it); the broker then skips the epoch check.
    const offsets = [...pending].map(([partition, offset]) => ({
      topic: options.topic,
      partition,
      offset,
      leaderEpoch: -1,
    }));
    pending.clear();
    committing = consumer
      .commit({ offsets })
      .catch(() => {
        for (const { partition, offset } of offsets)
          if (!pending.has(partition)) pending.set(partition, offset);
      })
      .finally(() => {
        committing = undefined;
      });
    return committing;
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const stream = await consumer.consume({
      topics: [options.topic],
      mode: "committed",
      fallbackMode: options.startAt,
      autocommit: options.commit === "per-fetch",
      maxWaitTime: options.maxWaitTimeMs,
      maxBytes: MAX_BYTES,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    });
    const interval = options.commit === "per-fetch" ? undefined : options.commit.everyMs;
    stream.on("data", (message: Platformatic.Message<Buffer, Buffer, Buffer, Buffer>) => {
      options.onRecord(message.value);
      if (interval !== undefined) pending.set(message.partition, message.offset + 1n);
    });
    // A stream error (e.g. the group needs a rejoin) ends the baseline's measurement short; it is reported by the
    // trial as records not handled, so it is logged, not thrown from an event handler.
    stream.on("error", (error: Error) => console.error(`bare platformatic consumer: ${error.message}`));
    if (interval !== undefined) timer = setInterval(() => void commit(), interval);
    let stopping: Promise<void> | undefined;
    return {
      stop: () =>
        (stopping ??= (async () => {
          clearInterval(timer);
          await stream.close().catch(() => undefined);
          await committing;
          await commit();
          await consumer.close().catch(() => undefined);
        })()),
    };
  } catch (error) {
    clearInterval(timer);
    try {
      await consumer.close(true);
    } catch {
      // closing what failed to start: the start's error is the one to report
    }
    throw error;
  }
}
