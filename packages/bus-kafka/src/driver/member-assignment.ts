/**
 * The partitions a classic consumer group's leader assigned to a member, decoded from the member's assignment bytes
 * in the consumer protocol's layout (ConsumerProtocolAssignment, versions 0–3: int16 version, then an int32-counted
 * array of { int16-length topic name, int32-counted array of int32 partitions }, then user data). Partitions come
 * back sorted. Empty bytes (a member between assignments) and bytes of another layout (another client's protocol)
 * decode to no assignment rather than an error: describing the group must not fail for them.
 */
export function decodeMemberAssignment(bytes: Buffer | null | undefined): Record<string, number[]> {
  if (bytes === null || bytes === undefined || bytes.length === 0) return {};
  try {
    let at = 2; // version
    const int16 = (): number => {
      const value = bytes.readInt16BE(at);
      at += 2;
      return value;
    };
    const int32 = (): number => {
      const value = bytes.readInt32BE(at);
      at += 4;
      return value;
    };
    const out: Record<string, number[]> = {};
    const topics = int32();
    if (topics < 0 || topics > bytes.length) return {};
    for (let t = 0; t < topics; t++) {
      const length = int16();
      if (length < 0 || at + length > bytes.length) return {};
      const topic = bytes.toString("utf8", at, at + length);
      at += length;
      const count = int32();
      if (count < 0 || at + 4 * count > bytes.length) return {};
      const partitions: number[] = [];
      for (let p = 0; p < count; p++) partitions.push(int32());
      out[topic] = [...(out[topic] ?? []), ...partitions].sort((a, b) => a - b);
    }
    return out;
  } catch {
    // Truncated bytes: Buffer's reads throw RangeError.
    return {};
  }
}
