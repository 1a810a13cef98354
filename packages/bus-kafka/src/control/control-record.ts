import { parseControlRecord, type ControlRecord } from "@omnidaemon/protocol";

/**
 * A control record's Kafka value as a follower reads it: the record by kind, a tombstone (a
 * removed agent's key), or the reason it is not a control record (logged and skipped, never fatal).
 */
export function decodeControlRecord(
  value: Buffer | null,
): { record: ControlRecord } | { tombstone: true } | { invalid: string } {
  if (value === null) return { tombstone: true };
  let json: unknown;
  try {
    json = JSON.parse(value.toString("utf8"));
  } catch (error) {
    return { invalid: `not JSON: ${(error as Error).message}` };
  }
  try {
    return { record: parseControlRecord(json) };
  } catch (error) {
    return { invalid: (error as Error).message };
  }
}
