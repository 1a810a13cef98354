import type { RecordHeaders } from "../../headers";
import type { GroupMessage } from "../consumer";
import type { Platformatic } from "./load";

type KafkaRecord = Platformatic.KafkaRecord;
type RecordsBatch = Platformatic.RecordsBatch;

/** Attribute bit of a control batch (transaction markers): its offsets count, its records are never handed over. */
export const IS_CONTROL = 1 << 5;

/** A fetched record as a {@link GroupMessage}: offsets and timestamps are bigints here, headers pairs of Buffers. */
export class PlatformaticMessage implements GroupMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  private decoded: RecordHeaders | undefined;

  constructor(
    offset: bigint,
    private readonly record: KafkaRecord,
    firstTimestamp: bigint,
  ) {
    this.offset = offset.toString();
    this.key = record.key ?? null;
    this.value = record.value ?? null;
    this.timestamp = (firstTimestamp + record.timestampDelta).toString();
  }

  /** UTF-8 strings; the first value of a repeated name wins, as kafkajs's are decoded (headers.ts). */
  headers(): RecordHeaders {
    if (this.decoded) return this.decoded;
    const out: RecordHeaders = {};
    for (const [name, value] of this.record.headers) {
      if (name === null || value === null) continue;
      const key = name.toString("utf8");
      if (!(key in out)) out[key] = value.toString("utf8");
    }
    this.decoded = out;
    return out;
  }
}

/**
 * The records of one partition's fetch result from offset `requested` on, and the last offset the result covered
 * (counting control batches, whose records are never handed over). Undefined when it covered nothing at or after
 * `requested`. The broker answers with whole record batches, so the first may start before `requested`.
 */
export function fetchedRecords(
  batches: RecordsBatch[],
  requested: bigint,
): { messages: PlatformaticMessage[]; lastOffset: bigint } | undefined {
  const messages: PlatformaticMessage[] = [];
  let last = -1n;
  for (const batch of batches) {
    const batchLast = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (batchLast > last) last = batchLast;
    if (batch.attributes & IS_CONTROL) continue;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset < requested) continue;
      messages.push(new PlatformaticMessage(offset, record, batch.firstTimestamp));
    }
  }
  return last < requested ? undefined : { messages, lastOffset: last };
}

/**
 * Where a partition's next fetch starts once `onBatch` took `taken` of `messages`: after everything the fetch covered
 * when it took them all (trailing control records included), else at the first record it did not take.
 */
export function positionAfter(messages: GroupMessage[], lastOffset: bigint, taken: number): bigint {
  // A count that is not one (NaN, say) takes nothing: fetching again is safe, skipping is not.
  const count = Number.isFinite(taken) ? Math.max(0, Math.min(Math.floor(taken), messages.length)) : 0;
  return count === messages.length ? lastOffset + 1n : BigInt((messages[count] as GroupMessage).offset);
}
