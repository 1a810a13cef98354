/**
 * What Postgres can hold. `text` and `jsonb` refuse U+0000 (SQLSTATE 22021 / 22P05), and `jsonb` refuses a lone
 * UTF-16 surrogate (JSON.stringify escapes it as `\udXXX`, which jsonb rejects). The API refuses such input with
 * a 400 ({@link findUnstorableJson}); values reported by workers, which must never stop ingestion, are stored in
 * a safe form instead ({@link toStorableJson}).
 */

/** The character stored in place of one Postgres cannot hold: U+FFFD, Unicode's replacement character. */
export const REPLACEMENT_CHARACTER = "\uFFFD";

export const NUL_PROBLEM = "must not contain the NUL character (U+0000)";
const SURROGATE_PROBLEM = "must not contain a lone UTF-16 surrogate";

// eslint-disable-next-line no-control-regex -- the NUL character is exactly what this matches
const NUL = /\u0000/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Why Postgres cannot hold `value` as text, or undefined when it can. */
export function unstorableText(value: string): string | undefined {
  if (value.includes("\u0000")) return NUL_PROBLEM;
  LONE_SURROGATE.lastIndex = 0;
  if (LONE_SURROGATE.test(value)) return SURROGATE_PROBLEM;
  return undefined;
}

/** `value` with every character Postgres cannot hold replaced by U+FFFD. */
export function toStorableText(value: string): string {
  return value.replace(NUL, REPLACEMENT_CHARACTER).replace(LONE_SURROGATE, REPLACEMENT_CHARACTER);
}

/** Where a JSON value breaks a rule: the path to it (keys and indexes) and what is wrong. */
export interface JsonProblem {
  path: string[];
  problem: string;
}

/**
 * The first place, in document order, where `value` holds a string or key Postgres cannot store. Iterative, so a
 * hostile depth cannot overflow the stack.
 */
export function findUnstorableJson(value: unknown): JsonProblem | undefined {
  const pending: Array<{ value: unknown; path: string[] }> = [{ value, path: [] }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { path } = item;
    if (typeof item.value === "string") {
      const problem = unstorableText(item.value);
      if (problem !== undefined) return { path, problem };
      continue;
    }
    if (typeof item.value !== "object" || item.value === null) continue;
    const isArray = Array.isArray(item.value);
    const entries: Array<[string, unknown]> = isArray
      ? (item.value as unknown[]).map((child, index) => [String(index), child])
      : Object.entries(item.value);
    // Pushed in reverse so the first offence in document order is found first.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string, unknown];
      const keyProblem = isArray ? undefined : unstorableText(key);
      if (keyProblem !== undefined) return { path: [...path, key], problem: `key ${keyProblem}` };
      pending.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
}

/**
 * `value` as Postgres can hold it: every string and key passed through {@link toStorableText}. Returns `value`
 * itself (no copy) when nothing needs replacing, which is the common case. Iterative (no stack overflow on deep
 * input); objects are rebuilt only along the paths that change.
 */
export function toStorableJson(value: unknown): unknown {
  if (findUnstorableJson(value) === undefined) return value;
  // Rebuild bottom-up: each container is copied with its children already converted.
  const root: { value: unknown } = { value: undefined };
  const work: Array<{ source: unknown; assign: (converted: unknown) => void }> = [
    { source: value, assign: (converted) => (root.value = converted) },
  ];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    const { source, assign } = item;
    if (typeof source === "string") assign(toStorableText(source));
    else if (Array.isArray(source)) {
      const copy: unknown[] = new Array<unknown>(source.length);
      assign(copy);
      source.forEach((child, index) => work.push({ source: child, assign: (c) => (copy[index] = c) }));
    } else if (typeof source === "object" && source !== null) {
      const copy: Record<string, unknown> = {};
      assign(copy);
      for (const [key, child] of Object.entries(source)) {
        const safeKey = toStorableText(key);
        work.push({ source: child, assign: (c) => (copy[safeKey] = c) });
      }
    } else assign(source);
  }
  return root.value;
}
