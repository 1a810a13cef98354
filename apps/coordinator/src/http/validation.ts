import { findNonJson, validateAgentName, validateTopic } from "@omnidaemon/bus-kafka";
import { findUnstorableJson, NUL_PROBLEM } from "@omnidaemon/store-pg";
import { z } from "zod";
import { invalidInput } from "./errors";

/** Where an input came from; names the field when the whole input is wrong (`body: expected object`). */
export type InputSource = "params" | "query" | "body";

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

// Per-parse, so nothing global changes: reads "is required" / "expected string, got number 5" rather than
// zod's "Invalid input: expected string, received undefined".
const friendly: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === "invalid_type") {
    return issue.input === undefined
      ? "is required"
      : `expected ${issue.expected}, got ${describe(issue.input)}`;
  }
  if (issue.code === "unrecognized_keys") return `unknown field(s) ${issue.keys.join(", ")}`;
  return undefined;
};

/**
 * Parses one input with its schema, or throws a 400 whose field is the dotted path of the first problem
 * (`topic`, `payload.content`, `offsets.0.partition`) and whose message starts with that field.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, source: InputSource): z.output<S> {
  const result = schema.safeParse(value, { error: friendly });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? source : issue.path.map(String).join(".");
  throw invalidInput(field, issue?.message ?? "invalid");
}

/** Adapts a bus-kafka naming check (the one source of the naming rules) to a zod refinement. */
function busNameRule(check: (value: string, field: string) => string) {
  return (value: string, ctx: z.core.$RefinementCtx<string>): void => {
    try {
      check(value, "");
    } catch (error) {
      // The bus phrases it `<field> "<value>" may contain only …`; with an empty field that is just the rule.
      ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message.trim() : "invalid" });
    }
  };
}

/** A topic agents consume: Kafka topic characters, at most 249, not the reserved `omnidaemon.` prefix. */
export const topicSchema = z
  .string()
  .max(249)
  .superRefine(busNameRule(validateTopic))
  .meta({ description: 'Topic: letters, digits, ".", "_" and "-"; not starting with "omnidaemon."' });

/** An agent name: letters, digits, "_" and "-" (no dots). */
export const agentNameSchema = z
  .string()
  .max(200)
  .superRefine(busNameRule(validateAgentName))
  .meta({ description: 'Agent name: letters, digits, "_" and "-"' });

/**
 * Free text the coordinator stores or forwards: bounded, and without U+0000, which Postgres cannot hold in `text`
 * or `jsonb` (it would answer 22021/22P05, a 500). The pattern is also what /openapi.json states.
 */
export function text(options: { min?: number; max: number }) {
  return z
    .string()
    .min(options.min ?? 0)
    .max(options.max)
    .regex(NO_NUL, NUL_PROBLEM);
}

// eslint-disable-next-line no-control-regex -- the NUL character is exactly what this pattern is about
const NO_NUL = /^[^\u0000]*$/;

/** Short free text (filters, ids): non-empty, bounded, no NUL. */
export const shortText = (max = 256) => text({ min: 1, max });

/**
 * A JSON value the coordinator stores (agent config): plain JSON nested at most MAX_JSON_DEPTH levels (bus-kafka's
 * `findNonJson`), with strings and keys Postgres can hold (store-pg's `findUnstorableJson`).
 */
export function storableJson<S extends z.ZodType>(schema: S) {
  return schema.superRefine((value, ctx) => {
    const nonJson = findNonJson(value, "$");
    if (nonJson !== undefined) {
      ctx.addIssue({ code: "custom", message: `value at ${nonJson}` });
      return;
    }
    const found = findUnstorableJson(value);
    if (found !== undefined) ctx.addIssue({ code: "custom", message: found.problem, path: found.path });
  });
}

/** A positive integer query parameter, `limit=50`, with a default and a ceiling. */
export function limitQuery(fallback: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, { error: (issue) => `expected an integer 1-${max}, got ${describe(issue.input)}` })
    .optional()
    .transform((raw) => (raw === undefined ? fallback : Number(raw)))
    .pipe(z.number().int().min(1, `expected an integer 1-${max}`).max(max, `expected an integer 1-${max}`))
    .meta({ description: `Integer 1-${max}; default ${fallback}` });
}

/** A boolean query parameter: true/false (also 1/0); anything else is refused rather than guessed. */
export function booleanQuery(fallback: boolean) {
  return z
    .enum(["true", "false", "1", "0"], {
      error: (issue) => `expected true or false, got ${describe(issue.input)}`,
    })
    .optional()
    .transform((raw) => (raw === undefined ? fallback : raw === "true" || raw === "1"))
    .meta({ description: `true or false; default ${String(fallback)}` });
}
