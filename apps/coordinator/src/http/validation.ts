import {
  AGENT_NAME_PATTERN,
  BusError,
  TOPIC_PATTERN,
  agentRuntimeConfigSchema,
  parseAgentRuntimeConfig,
  validateAgentName,
  validateTopic,
} from "@omnidaemon/bus-kafka";
import { NUL_PROBLEM } from "@omnidaemon/store-pg";
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

const REQUIRED = "is required";

/**
 * A topic: Kafka topic characters, at most `max` (249, Kafka's limit), not `__…` (Kafka's internal topics) and not
 * `omnidaemon.…`/`omnidaemon_…` (the fleet's own). The pattern states the rules in /openapi.json; the bus check
 * (run first, so its wording wins) explains them.
 */
export function topicSchemaOf(max: number) {
  return z
    .string()
    .min(1, REQUIRED)
    .max(max)
    .superRefine(busNameRule(validateTopic))
    .regex(TOPIC_PATTERN, "is not a valid topic name")
    .meta({
      description:
        'Topic: letters, digits, ".", "_" and "-"; not starting with "__", "omnidaemon." or "omnidaemon_"',
    });
}

/** An agent name: letters, digits, "_" and "-" (no dots), at most `max`. */
export function agentNameSchemaOf(max: number) {
  return z
    .string()
    .min(1, REQUIRED)
    .max(max)
    .superRefine(busNameRule(validateAgentName))
    .regex(AGENT_NAME_PATTERN, "is not a valid agent name")
    .meta({ description: 'Agent name: letters, digits, "_" and "-"' });
}

export const topicSchema = topicSchemaOf(249);
export const agentNameSchema = agentNameSchemaOf(200);

/**
 * Bounds for registering an agent: its retry topic `omnidaemon.retry.<topic>.<name>` must fit Kafka's 249
 * characters, and a JSON Schema cannot relate two fields, so each gets its share: 17 + 115 + 1 + 116 = 249.
 */
export const REGISTER_TOPIC_MAX = 115;
export const REGISTER_NAME_MAX = 116;

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
 * An agent's runtime config as a client sends it (camelCase, unset fields take their defaults). Validated by the
 * bus's own `parseAgentRuntimeConfig` (the one definition) and documented in /openapi.json from the same schema;
 * the value is kept as sent.
 */
export const agentConfigSchema = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    try {
      parseAgentRuntimeConfig(value, "config");
    } catch (error) {
      const field = error instanceof BusError ? error.field : undefined;
      const message =
        error instanceof Error ? error.message.replace(/^invalid agent [^:]*: /, "") : "invalid";
      ctx.addIssue({
        code: "custom",
        message,
        ...(field !== undefined && { path: field.split(".").slice(1) }),
      });
    }
  })
  .meta(
    (({ $schema: _dialect, ...rest }) => rest)(
      z.toJSONSchema(agentRuntimeConfigSchema, { target: "draft-2020-12", io: "input" }) as Record<
        string,
        unknown
      >,
    ),
  );

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
      error: (issue) => `expected an integer 1-${max}, got ${describe(issue.input)}`,
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
      error: (issue) => `expected true or false, got ${describe(issue.input)}`,
    })
    .optional()
    .transform((raw) => (raw === undefined ? fallback : raw === "true" || raw === "1"))
    .meta({ description: `true or false; default ${String(fallback)}` });
}
