import { decodeEnvelope, type Envelope } from "../envelope";
import { clip, HEADER, type RecordHeaders } from "../headers";

/** Characters of a record's value kept in `DlqEntry.rawValue`. */
export const DEFAULT_MAX_VALUE_CHARS = 64 * 1024;

/** One record read from a dead-letter topic, before interpretation. */
export interface DlqRecord {
  partition: number;
  offset: string;
  /** Kafka record timestamp (epoch ms, as a string): when the record was dead-lettered. */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders;
}

/** A dead-lettered event as operators see it: the original record plus the provenance the engine attached. */
export interface DlqEntry {
  partition: number;
  offset: string;
  key: string | null;
  /** The envelope's task id, also when the envelope is otherwise invalid but has a string `id`. */
  taskId?: string;
  /** The decoded envelope, when the value is a valid one. */
  envelope?: Envelope;
  /** The value as UTF-8 text, clipped; null for a record without a value. */
  rawValue: string | null;
  /** Size of the original value in bytes. */
  valueBytes: number;
  /** Why it was dead-lettered: invalid_record, non_retriable, retries_exhausted. */
  reason?: string;
  errorClass?: string;
  errorMessage?: string;
  errorStack?: string;
  /** Attempts made before giving up. */
  attempts?: number;
  sourceTopic?: string;
  sourcePartition?: number;
  sourceOffset?: string;
  agent?: string;
  consumerGroup?: string;
  /** Epoch ms. */
  firstFailureAt?: number;
  /** Epoch ms. */
  lastFailureAt?: number;
  /** Epoch ms: when the record was written to the DLQ (its Kafka timestamp). */
  deadLetteredAt: number;
  /** Set when this record is itself the failure of a replay: `<dlqTopic>:<partition>:<offset>` of the original. */
  replayOf?: string;
  /** A replay of this record has been published (a marker for it is in the DLQ). */
  replayed: boolean;
  /** Every header of the record, original and provenance. */
  headers: RecordHeaders;
}

export type ParsedDlqRecord =
  | { kind: "entry"; entry: DlqEntry }
  /** A replay-ledger marker; `target` is `<partition>:<offset>` of the replayed record (undefined if unreadable). */
  | { kind: "marker"; target: string | undefined };

/** `<partition>:<offset>`: how the ledger names a DLQ record. */
export function entryKey(partition: number, offset: string | number | bigint): string {
  return `${partition}:${String(offset)}`;
}

const ENTRY_KEY = /^(\d+):(\d+)$/;

/** Normalizes `<partition>:<offset>` (no signs, no leading zeros); undefined when it is not one. */
export function parseEntryKey(text: string): { partition: number; offset: string } | undefined {
  const match = ENTRY_KEY.exec(text.trim());
  if (!match) return undefined;
  const partition = Number(match[1]);
  if (!Number.isSafeInteger(partition)) return undefined;
  return { partition, offset: BigInt(match[2] as string).toString() };
}

function optional(headers: RecordHeaders, name: string): string | undefined {
  const value = headers[name];
  return value === undefined || value === "" ? undefined : value;
}

/** A non-negative integer header (attempts, partitions, epoch ms); anything else reads as missing. */
function count(headers: RecordHeaders, name: string): number | undefined {
  const value = headers[name];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) ? parsed : undefined;
}

function taskIdOf(value: Buffer | null, envelope: Envelope | undefined): string | undefined {
  if (envelope) return envelope.id;
  if (value === null || value.length === 0) return undefined;
  try {
    const parsed = JSON.parse(value.toString("utf8")) as unknown;
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
      const id = (parsed as { id?: unknown }).id;
      if (typeof id === "string" && id.length > 0 && id.length <= 256) return id;
    }
  } catch {
    // Not JSON: no task id to show.
  }
  return undefined;
}

/**
 * The replay-ledger marker a record is, read from its headers alone (cheap: the value is not decoded); undefined
 * when the record is an entry.
 */
export function parseMarker(record: Pick<DlqRecord, "headers">): { target: string | undefined } | undefined {
  const marker = record.headers[HEADER.replayedMarker];
  if (marker === undefined) return undefined;
  const target = parseEntryKey(marker);
  return { target: target && entryKey(target.partition, target.offset) };
}

/** Interprets one DLQ record: a replay marker, or an entry with its provenance decoded. Never throws. */
export function parseDlqRecord(record: DlqRecord, maxValueChars = DEFAULT_MAX_VALUE_CHARS): ParsedDlqRecord {
  const { headers } = record;
  const marker = parseMarker(record);
  if (marker !== undefined) return { kind: "marker", target: marker.target };
  const decoded = decodeEnvelope(record.value);
  const envelope = decoded.ok ? decoded.envelope : undefined;
  const sourceOffset = optional(headers, HEADER.originOffset);
  // Optional fields stay undefined when the header is missing (a record written by something else than the engine).
  const entry: DlqEntry = {
    partition: record.partition,
    offset: record.offset,
    key: record.key === null ? null : record.key.toString("utf8"),
    taskId: taskIdOf(record.value, envelope),
    envelope,
    rawValue: record.value === null ? null : clip(record.value.toString("utf8"), maxValueChars),
    valueBytes: record.value?.length ?? 0,
    reason: optional(headers, HEADER.dlqReason),
    errorClass: optional(headers, HEADER.errorClass),
    errorMessage: optional(headers, HEADER.errorMessage),
    errorStack: optional(headers, HEADER.errorStack),
    attempts: count(headers, HEADER.attempt),
    sourceTopic: optional(headers, HEADER.originTopic),
    sourcePartition: count(headers, HEADER.originPartition),
    sourceOffset: sourceOffset !== undefined && /^\d+$/.test(sourceOffset) ? sourceOffset : undefined,
    agent: optional(headers, HEADER.agent),
    consumerGroup: optional(headers, HEADER.consumerGroup),
    firstFailureAt: count(headers, HEADER.firstFailureAt),
    lastFailureAt: count(headers, HEADER.lastFailureAt),
    deadLetteredAt: Number(record.timestamp),
    replayOf: optional(headers, HEADER.replayOf),
    replayed: false,
    headers,
  };
  return { kind: "entry", entry };
}

/** DLQ order: oldest dead-lettered first, then by partition and offset. */
export function compareEntries(
  a: Pick<DlqEntry, "deadLetteredAt" | "partition" | "offset">,
  b: Pick<DlqEntry, "deadLetteredAt" | "partition" | "offset">,
): number {
  if (a.deadLetteredAt !== b.deadLetteredAt) return a.deadLetteredAt - b.deadLetteredAt;
  if (a.partition !== b.partition) return a.partition - b.partition;
  const x = BigInt(a.offset);
  const y = BigInt(b.offset);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** When the event last failed: the provenance header, else the time it reached the DLQ. */
export function failureTime(entry: Pick<DlqEntry, "lastFailureAt" | "deadLetteredAt">): number {
  return entry.lastFailureAt ?? entry.deadLetteredAt;
}
