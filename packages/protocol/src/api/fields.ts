import { z } from "zod";
import { hasLoneSurrogate, LONE_SURROGATE_PROBLEM, NO_NUL, NUL_PROBLEM } from "../text-rules";

/**
 * Field schemas the REST requests are built from. Messages read well after the field's name, because the
 * coordinator answers `<field>: <message>` (`limit: expected an integer 1-1000, got "abc"`).
 */

export const REQUIRED = "is required";

/** A value for an error message: strings quoted and cut at 60 characters, other values by kind. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/**
 * Free text the coordinator stores or forwards: bounded, what Postgres can hold (no U+0000, no lone UTF-16
 * surrogate; only the first is a pattern in /openapi.json, see text-rules.ts).
 */
export function text(options: { min?: number; max: number }) {
  return storableString()
    .min(options.min ?? 0)
    .max(options.max);
}

/** A string Postgres can hold in `text` and `jsonb` (see text-rules.ts). */
export function storableString() {
  return z
    .string()
    .regex(NO_NUL, NUL_PROBLEM)
    .refine((value) => !hasLoneSurrogate(value), LONE_SURROGATE_PROBLEM);
}

/** Short free text (filters, ids): non-empty, bounded, no NUL. */
export const shortText = (max = 256) => text({ min: 1, max });

/** An ISO 8601 time, as every `*_at` field of a response. */
export const isoTime = z.string().meta({ description: "ISO 8601 time" });

/**
 * A pattern matching exactly the decimal integers 1 … `max`, for a power of ten `max` (1000 → `[1-9][0-9]{0,2}|1000`):
 * the query string is text, so the OpenAPI document can state the range only as a pattern.
 */
export function integerRangePattern(max: number): RegExp {
  const digits = Math.log10(max);
  if (!Number.isInteger(digits) || digits < 1)
    throw new Error(`integerRangePattern: ${max} is not a power of ten`);
  return new RegExp(`^(?:[1-9][0-9]{0,${digits - 1}}|${max})$`);
}

/** A positive integer query parameter, `limit=50`, with a default and a ceiling (a power of ten). */
export function limitQuery(fallback: number, max: number) {
  return z
    .string()
    .regex(integerRangePattern(max), {
      error: (issue) => `expected an integer 1-${max}, got ${describeValue(issue.input)}`,
    })
    .optional()
    .transform((raw) => (raw === undefined ? fallback : Number(raw)))
    .pipe(z.number().int().min(1, `expected an integer 1-${max}`).max(max, `expected an integer 1-${max}`))
    .meta({ description: `Integer 1-${max}; default ${fallback}` });
}

/** A boolean query parameter: true/false (also 1/0); anything else is refused rather than guessed. */
export function booleanQuery(fallback: boolean) {
  return z
    .enum(["true", "false", "1", "0"], {
      error: (issue) => `expected true or false, got ${describeValue(issue.input)}`,
    })
    .optional()
    .transform((raw) => (raw === undefined ? fallback : raw === "true" || raw === "1"))
    .meta({ description: `true or false; default ${String(fallback)}` });
}

/** An agent's runtime config as a client sends it: a JSON object (camelCase keys, unset ones take defaults). */
export type AgentConfigSchema = z.ZodRecord<z.ZodString, z.ZodUnknown>;

/**
 * The rules that belong to other layers, applied on top of the structural ones here. The coordinator passes the
 * bus's own naming rules and agent-config schema (so their one definition, in bus-kafka, decides and words the
 * errors, and /openapi.json states them); clients use {@link STRUCTURAL_RULES}, which adds nothing, for the types.
 */
export interface DomainRules {
  /** Refines a topic field (already non-empty and bounded). */
  topic(base: z.ZodString): z.ZodString;
  /** Refines an agent-name field (already non-empty and bounded). */
  agentName(base: z.ZodString): z.ZodString;
  /** Refines an agent's config object. */
  agentConfig(base: AgentConfigSchema): AgentConfigSchema;
}

export const STRUCTURAL_RULES: DomainRules = {
  topic: (base) => base,
  agentName: (base) => base,
  agentConfig: (base) => base,
};

/** Kafka's longest topic name. */
export const MAX_TOPIC_CHARS = 249;
/** Longest agent name a path or query may carry. */
export const MAX_AGENT_NAME_CHARS = 200;

/** The topic and agent-name fields under `rules`. */
export function nameFields(rules: DomainRules) {
  const topic = (max = MAX_TOPIC_CHARS) => rules.topic(z.string().min(1, REQUIRED).max(max));
  const agentName = (max = MAX_AGENT_NAME_CHARS) => rules.agentName(z.string().min(1, REQUIRED).max(max));
  return { topic, agentName };
}
