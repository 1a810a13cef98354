import type { Logger } from "pino";
import type { KafkaConnectionInput } from "../config";
import { type GroupBatch } from "../driver/consumer";
import { createGroupConsumer } from "../driver/factories";
import { BusError } from "../errors";
import type { DlqRecord } from "./entry";

/** Offsets `[from, to)` of one partition. */
export interface ReadRange {
  partition: number;
  from: string;
  to: string;
}

export interface ReadOptions {
  topic: string;
  ranges: ReadRange[];
  /** Every partition of the topic; those without a range are paused, not read. */
  allPartitions: number[];
  /** A group id nobody else uses; the caller deletes the group afterwards. */
  groupId: string;
  /** Longest the read may go without receiving a record (time spent in `onRecord` not counted). */
  timeoutMs: number;
  logger: Logger;
  /** Aborts the read (the owner is stopping). */
  signal: AbortSignal;
  /**
   * Called once per record, in offset order within a partition. A returned promise is awaited before the next
   * record is handed over, so a caller that publishes what it read holds one page at a time, not the topic.
   */
  onRecord: (record: DlqRecord) => void | Promise<void>;
}

/**
 * Reads fixed offset ranges of a topic and returns once every range is done. It joins a throwaway consumer group
 * that never commits (the group consumer is the one way to read, on every driver); the fixed upper bounds (the high
 * watermarks captured by the caller) make the read finish even while new records keep arriving. Records are handed
 * over as they are fetched (one fetch response at a time), so memory does not grow with the topic.
 */
export async function readRanges(connection: KafkaConnectionInput, options: ReadOptions): Promise<void> {
  const { topic, logger, signal } = options;
  const pending = new Map<number, { next: bigint; to: bigint }>();
  for (const range of options.ranges) {
    const from = BigInt(range.from);
    const to = BigInt(range.to);
    if (from < to) pending.set(range.partition, { next: from, to });
  }
  if (pending.size === 0) return;
  if (signal.aborted) throw new BusError("STOPPED", "DLQ manager is stopping");

  let finish: () => void = () => undefined;
  let fail: (error: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  // It may fail (crash, abort) before it is awaited below; the await still sees the rejection.
  done.catch(() => undefined);
  const onAbort = (): void => fail(new BusError("STOPPED", "DLQ manager is stopping"));
  signal.addEventListener("abort", onAbort, { once: true });
  // A deadline on progress, not on the whole read: a large DLQ takes as long as it takes, a stuck one fails.
  let idle: NodeJS.Timeout | undefined;
  const disarm = (): void => clearTimeout(idle);
  const arm = (): void => {
    disarm();
    idle = setTimeout(
      () =>
        fail(
          new BusError(
            "ADMIN_FAILED",
            `reading ${topic} made no progress for ${options.timeoutMs} ms (${pending.size} partitions left)`,
          ),
        ),
      options.timeoutMs,
    );
  };
  arm();

  const onBatch = async (batch: GroupBatch): Promise<number> => {
    const state = pending.get(batch.partition);
    if (batch.topic !== topic || state === undefined) return batch.messages.length;
    arm();
    let taken = 0;
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      taken++;
      // A seek can make a consumer deliver an offset again; `next` keeps each record to one call.
      if (offset < state.next) continue;
      if (offset >= state.to) break;
      state.next = offset + 1n;
      const handled = options.onRecord({
        partition: batch.partition,
        offset: message.offset,
        timestamp: message.timestamp,
        key: message.key,
        value: message.value,
        headers: message.headers(),
      });
      if (handled !== undefined) {
        disarm();
        try {
          await handled;
        } catch (error) {
          fail(error);
          return taken;
        }
        arm();
        // Publishing a page can take a while; stay a member of the throwaway group meanwhile.
        await batch.heartbeat();
      }
    }
    if (state.next >= state.to || BigInt(batch.lastOffset) >= state.to - 1n) {
      pending.delete(batch.partition);
      if (pending.size === 0) finish();
    }
    return taken;
  };
  const consumer = createGroupConsumer(connection, logger, {
    groupId: options.groupId,
    topics: [{ topic, fromBeginning: true }],
    maxWaitTimeMs: 100,
    onBatch,
    onCrash: (error, restarting) => {
      if (!restarting) fail(error);
    },
  });
  try {
    await consumer.start();
    // Partitions outside the ranges are not read at all; the others start at their range.
    const assigned = new Set(pending.keys());
    for (const [partition, state] of pending) consumer.seek(topic, partition, state.next.toString());
    const others = options.allPartitions.filter((p) => !assigned.has(p));
    if (others.length > 0) consumer.pause(topic, others);
    await done;
  } finally {
    disarm();
    signal.removeEventListener("abort", onAbort);
    // Never from inside onBatch: a consumer's stop waits for the running batch, which would wait for us.
    await consumer
      .stop()
      .catch((error: unknown) => logger.warn({ err: error }, "DLQ reader disconnect failed"));
  }
}
