/** kafkajs nests the broker's error under retries and aggregates; the protocol type is what tells them apart. */
export function protocolTypes(error: unknown, depth = 0): string[] {
  if (error === null || typeof error !== "object" || depth > 5) return [];
  const e = error as {
    type?: unknown;
    cause?: unknown;
    errors?: unknown;
    groups?: unknown;
    partitions?: unknown;
  };
  const types = typeof e.type === "string" ? [e.type] : [];
  types.push(...protocolTypes(e.cause, depth + 1));
  for (const list of [e.errors, e.groups, e.partitions]) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      types.push(...protocolTypes(item, depth + 1));
      if (item !== null && typeof item === "object") {
        types.push(...protocolTypes((item as { error?: unknown }).error, depth + 1));
      }
    }
  }
  return types;
}

export function hasType(error: unknown, type: string): boolean {
  return protocolTypes(error).includes(type);
}

/**
 * Broker verdicts about one record or one topic: sending the same record again fails the same way, however long
 * one waits. (UNKNOWN_TOPIC_OR_PARTITION is also what a stale kafkajs cache says, so the producer checks that the
 * topic is really gone before it trusts this one.)
 */
const RECORD_REJECTIONS = [
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "INVALID_TOPIC_EXCEPTION",
  "TOPIC_AUTHORIZATION_FAILED",
  "UNKNOWN_TOPIC_OR_PARTITION",
] as const;

/** The broker's reason for refusing a record for good, or undefined when retrying may still succeed. */
export function rejectionOf(error: unknown): (typeof RECORD_REJECTIONS)[number] | undefined {
  const types = protocolTypes(error);
  return RECORD_REJECTIONS.find((type) => types.includes(type));
}
