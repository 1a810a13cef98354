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
