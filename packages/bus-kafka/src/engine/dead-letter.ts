import type { GroupMessage } from "../driver/consumer";
import { HEADER, clip, type RecordHeaders } from "../headers";
import type { AgentNames } from "../naming";
import type { OutgoingRecord } from "../producer";
import type { DeadLetterReason } from "./types";

/** A record as the engine received it, with what it needs to route it onwards. */
export interface InboundRecord {
  /** `${topic}:${partition}` */
  tp: string;
  topic: string;
  partition: number;
  offset: number;
  kafkaKey: string | null;
  value: Buffer | null;
  /** The record as fetched: its headers are decoded on first use (most records never need them). */
  message: GroupMessage;
  /** Came from the agent's retry topic. */
  retry: boolean;
  attempt: number;
  /** Push-backs the event waited on without them counting as attempts (`omni-waits`; 0 on the agent's topic). */
  waits: number;
  /** Times the event was replayed from the DLQ (`omni-replays`; 0 on the agent's topic). */
  replays: number;
  /** Scheduling key: the Kafka key, or a per-record key when there is none (no ordering to keep). */
  key: string;
  /** Its `tenant_id` for the tenant-fair ready-queue ("" for none; see `tenantOf`). */
  tenant: string;
}

export function headersOf(record: InboundRecord): RecordHeaders {
  return record.message.headers();
}

export interface FailureInfo {
  reason: DeadLetterReason;
  error: unknown;
  attempt: number;
  now: number;
}

function errorFields(error: unknown): { errorClass: string; message: string; stack: string } {
  if (error instanceof Error) {
    return { errorClass: error.name, message: error.message, stack: error.stack ?? "" };
  }
  return { errorClass: typeof error, message: String(error), stack: "" };
}

/** The record's original coordinates: carried in headers once it went through the retry topic. */
function origin(record: InboundRecord): RecordHeaders {
  const headers = headersOf(record);
  return {
    [HEADER.originTopic]: headers[HEADER.originTopic] ?? record.topic,
    [HEADER.originPartition]: headers[HEADER.originPartition] ?? String(record.partition),
    [HEADER.originOffset]: headers[HEADER.originOffset] ?? String(record.offset),
  };
}

/** What a retry record says about the failed attempt (only a dead letter carries a reason). */
export type AttemptFailure = Omit<FailureInfo, "reason">;

function failureHeaders(record: InboundRecord, names: AgentNames, failure: AttemptFailure): RecordHeaders {
  const { errorClass, message, stack } = errorFields(failure.error);
  return {
    ...origin(record),
    [HEADER.agent]: names.agent,
    [HEADER.consumerGroup]: names.groupId,
    [HEADER.attempt]: String(failure.attempt),
    [HEADER.errorClass]: clip(errorClass, 256),
    [HEADER.errorMessage]: clip(message, 4096),
    [HEADER.errorStack]: clip(stack),
    [HEADER.firstFailureAt]: headersOf(record)[HEADER.firstFailureAt] ?? String(failure.now),
    [HEADER.lastFailureAt]: String(failure.now),
  };
}

/**
 * The DLQ record keeps the original key, value and headers byte for byte, and adds provenance: where the event
 * came from, which agent and group gave up on it, after how many attempts, and why.
 */
export function deadLetterRecord(
  record: InboundRecord,
  names: AgentNames,
  failure: FailureInfo,
): OutgoingRecord {
  const { [HEADER.notBefore]: _notBefore, ...kept } = headersOf(record);
  return {
    topic: names.dlqTopic,
    key: record.kafkaKey,
    value: record.value,
    headers: { ...kept, ...failureHeaders(record, names, failure), [HEADER.dlqReason]: failure.reason },
  };
}

/**
 * The next attempt of an event, parked on the agent's retry topic until `notBefore`. A `wait` (a push-back under
 * limits, see failure-policy.ts) keeps the attempt number and counts one more wait instead.
 */
export function retryRecord(
  record: InboundRecord,
  names: AgentNames,
  failure: AttemptFailure,
  value: Buffer,
  notBefore: number,
  wait = false,
): OutgoingRecord {
  return {
    topic: names.retryTopic,
    key: record.kafkaKey,
    value,
    headers: {
      ...headersOf(record),
      ...failureHeaders(record, names, failure),
      [HEADER.attempt]: String(wait ? failure.attempt : failure.attempt + 1),
      ...(wait || record.waits > 0 ? { [HEADER.waits]: String(record.waits + (wait ? 1 : 0)) } : {}),
      [HEADER.notBefore]: String(notBefore),
    },
  };
}

const TENANT_FIELD = Buffer.from('"tenant_id":"');

/**
 * The tenant of a record, for scheduling: the `omni-tenant-id` header omnidaemon's producers set, else — for a
 * record some other producer wrote — the envelope's `tenant_id`, parsed only when the value names a string tenant
 * (an envelope without one says `"tenant_id":null`, and costs no parse). "" for none, and for a value that is not
 * an envelope (the delivery dead-letters it).
 */
export function tenantOf(message: GroupMessage): string {
  const header = message.headers()[HEADER.tenantId];
  if (header !== undefined) return header;
  const value = message.value;
  if (value === null || value.indexOf(TENANT_FIELD) < 0) return "";
  try {
    const tenant = (JSON.parse(value.toString("utf8")) as { tenant_id?: unknown } | null)?.tenant_id;
    return typeof tenant === "string" ? tenant : "";
  } catch {
    return "";
  }
}
