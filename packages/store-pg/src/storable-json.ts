import { NUL_PROBLEM, replaceLoneSurrogates, unstorableText } from "@omnidaemon/protocol";

/**
 * What Postgres can hold. `text` and `jsonb` refuse U+0000 (SQLSTATE 22021 / 22P05), and `jsonb` refuses a lone
 * UTF-16 surrogate (JSON.stringify escapes it as `\udXXX`, which jsonb rejects). The API refuses such input with
 * a 400 (the protocol's text rules); values reported by workers, which must never stop ingestion, are stored in
 * a safe form instead ({@link toStorableJson}).
 */

/** The character stored in place of one Postgres cannot hold: U+FFFD, Unicode's replacement character. */
export const REPLACEMENT_CHARACTER = "\uFFFD";

// The rules live in the protocol (the API validates with the same words); re-exported for the package's users.
export { NUL_PROBLEM, unstorableText };

// eslint-disable-next-line no-control-regex -- the NUL character is exactly what this matches
const NUL = /\u0000/g;

/** `value` with every character Postgres cannot hold replaced by U+FFFD. */
export function toStorableText(value: string): string {
  return replaceLoneSurrogates(value.replace(NUL, REPLACEMENT_CHARACTER), REPLACEMENT_CHARACTER);
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
  // Each step links to its parent instead of copying the path, so deep input costs linear memory.
  interface Step {
    value: unknown;
    key: string | undefined;
    parent: Step | undefined;
  }
  const pathOf = (step: Step, last?: string): string[] => {
    const path = last === undefined ? [] : [last];
    for (let s: Step | undefined = step; s?.key !== undefined; s = s.parent) path.push(s.key);
    return path.reverse();
  };
  const pending: Step[] = [{ value, key: undefined, parent: undefined }];
  for (let step = pending.pop(); step !== undefined; step = pending.pop()) {
    if (typeof step.value === "string") {
      const problem = unstorableText(step.value);
      if (problem !== undefined) return { path: pathOf(step), problem };
      continue;
    }
    if (typeof step.value !== "object" || step.value === null) continue;
    const isArray = Array.isArray(step.value);
    const entries: Array<[string, unknown]> = isArray
      ? (step.value as unknown[]).map((child, index) => [String(index), child])
      : Object.entries(step.value);
    // Keys first (in order), then children pushed in reverse, so offences are found in document order.
    if (!isArray) {
      for (const [key] of entries) {
        const keyProblem = unstorableText(key);
        if (keyProblem !== undefined) return { path: pathOf(step, key), problem: `key ${keyProblem}` };
      }
    }
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string, unknown];
      pending.push({ value: child, key, parent: step });
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
