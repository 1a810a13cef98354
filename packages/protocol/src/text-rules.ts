/*
 * What Postgres can hold, as rules the API validates with and store-pg repairs by: `text` and `jsonb` refuse U+0000,
 * and `jsonb` refuses a lone UTF-16 surrogate (JSON.stringify writes one as `\udXXX`; `text` would silently store
 * U+FFFD instead). Zod-free, so the console bundle may use it too.
 *
 * Only the NUL rule is a pattern in /openapi.json: a pattern naming surrogates compiles in JavaScript but not in the
 * regex engines of Rust or Python validators (schemathesis drops it, then takes values it would forbid for valid).
 * The surrogate rule is a refinement the document states in words (docs/control-plane.md, "Input limits").
 */

export const NUL_PROBLEM = "must not contain the NUL character (U+0000)";
export const LONE_SURROGATE_PROBLEM = "must not contain a lone UTF-16 surrogate";

// eslint-disable-next-line no-control-regex -- the NUL character is exactly what this pattern is about
export const NO_NUL = /^[^\u0000]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `value` holds a UTF-16 surrogate without its other half (a paired one, as in an emoji, is fine). */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

/** `value` with every lone surrogate replaced by `replacement`. */
export function replaceLoneSurrogates(value: string, replacement: string): string {
  return value.replace(new RegExp(LONE_SURROGATE.source, "g"), replacement);
}

/** Why Postgres cannot hold `value`, or undefined when it can. */
export function unstorableText(value: string): string | undefined {
  if (value.includes("\u0000")) return NUL_PROBLEM;
  if (hasLoneSurrogate(value)) return LONE_SURROGATE_PROBLEM;
  return undefined;
}
