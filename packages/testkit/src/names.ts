import { randomBytes } from "node:crypto";

/**
 * A name no other test run uses, for topics, consumer groups and Postgres schemas alike: lowercase letters,
 * digits and `_` only (valid unquoted in SQL and as a Kafka topic), at most 50 characters (Postgres allows 63).
 * Tests share one broker and one database, so every test makes its own names and deletes what it made.
 *
 * @example uniqueName("orders") // "orders_m3k9x2a1_5f0c2e"
 */
export function uniqueName(prefix: string): string {
  const safePrefix = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, 28);
  return `${safePrefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

/** A topic name of the test's own (letters, digits, `_`; no reserved prefix, so the API accepts it too). */
export function newTopic(prefix: string): string {
  return uniqueName(`t_${prefix}`);
}

/** An agent name of the test's own (letters, digits, `_` and `-`, no dots). */
export function newAgent(prefix: string): string {
  return uniqueName(prefix).replace(/_/g, "-");
}
