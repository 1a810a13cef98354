import {
  AGENT_NAME_PATTERN,
  BusError,
  TOPIC_PATTERN,
  agentRuntimeConfigSchema,
  parseAgentRuntimeConfig,
  validateAgentName,
  validateTopic,
} from "@omnidaemon/bus-kafka";
import { describeValue, requestSchemas, type DomainRules } from "@omnidaemon/protocol";
import { z } from "zod";
import { invalidInput } from "./errors";

/** Where an input came from; names the field when the whole input is wrong (`body: expected object`). */
export type InputSource = "params" | "query" | "body";

// Per-parse, so nothing global changes: reads "is required" / "expected string, got number 5" rather than
// zod's "Invalid input: expected string, received undefined".
const friendly: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === "invalid_type") {
    return issue.input === undefined
      ? "is required"
      : `expected ${issue.expected}, got ${describeValue(issue.input)}`;
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

/**
 * The bus's rules on top of the protocol's request schemas (see DomainRules): topics and agent names by bus-kafka's
 * naming checks (run first, so their wording wins; the patterns state the same rules in /openapi.json), and an
 * agent's config by the bus's own `parseAgentRuntimeConfig`, documented from the same schema (the value is kept as
 * sent).
 */
export const BUS_RULES: DomainRules = {
  topic: (base) =>
    base.superRefine(busNameRule(validateTopic)).regex(TOPIC_PATTERN, "is not a valid topic name").meta({
      description:
        'Topic: letters, digits, ".", "_" and "-"; not starting with "__", "omnidaemon." or "omnidaemon_"',
    }),
  agentName: (base) =>
    base
      .superRefine(busNameRule(validateAgentName))
      .regex(AGENT_NAME_PATTERN, "is not a valid agent name")
      .meta({ description: 'Agent name: letters, digits, "_" and "-"' }),
  agentConfig: (base) =>
    base
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
      ),
};

/** Every request schema of the API, with the bus's rules: what the routes validate with and document. */
export const api = requestSchemas(BUS_RULES);
