/**
 * Kafka header names the bus reads and writes. Values are UTF-8 strings. Attempt and failure times live in
 * headers (not only in the envelope) so the DLQ and retry path never have to rewrite the user's value to know them.
 */
export const HEADER = {
  attempt: "omni-attempt",
  /** Times the event waited on a provider's push-back without it counting as an attempt (agents with limits). */
  waits: "omni-waits",
  firstFailureAt: "omni-first-failure-at",
  lastFailureAt: "omni-last-failure-at",
  notBefore: "omni-not-before",
  originTopic: "omni-origin-topic",
  originPartition: "omni-origin-partition",
  originOffset: "omni-origin-offset",
  agent: "omni-agent",
  consumerGroup: "omni-consumer-group",
  errorClass: "omni-error-class",
  errorMessage: "omni-error-message",
  errorStack: "omni-error-stack",
  dlqReason: "omni-dlq-reason",
  replayOf: "omni-replay-of",
  /** Times the event was replayed from the DLQ (absent: never). Its task record starts over with each replay. */
  replays: "omni-replays",
  replayedMarker: "omni-replayed",
  tenantId: "omni-tenant-id",
  traceparent: "traceparent",
} as const;

export type RecordHeaders = Record<string, string>;

/** Decodes kafkajs-style headers (Buffer | string | array | undefined) into plain strings; first value wins. */
export function decodeHeaders(raw: Record<string, unknown> | undefined): RecordHeaders {
  const out: RecordHeaders = {};
  if (!raw) return out;
  for (const [name, value] of Object.entries(raw)) {
    const first = Array.isArray(value) ? (value[0] as unknown) : value;
    if (first === undefined || first === null) continue;
    out[name] = Buffer.isBuffer(first) ? first.toString("utf8") : String(first);
  }
  return out;
}

export function intHeader(headers: RecordHeaders, name: string): number | undefined {
  const raw = headers[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Header values are bounded so a long stack trace cannot push a DLQ record over the broker's size limit. */
export function clip(text: string, max = 8 * 1024): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[${text.length - max} more]`;
}
