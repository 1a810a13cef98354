import {
  MAX_BURST,
  MAX_IN_FLIGHT,
  MAX_RATE_PER_SECOND,
  RATE_LIMIT_SCOPES,
  formatRateLimit,
  formatTenantWeights,
  type AgentLimits,
  type AgentLimitsAnswer,
  type LimitKey,
  type LimitsOverride,
  type RateLimit,
} from "@omnidaemon/protocol";
import { oneOf, positiveInt, positiveNumber, type ParsedArgs } from "../args";
import { UsageError } from "../errors";
import { NONE } from "../output/format";
import { nameFlag, topicFlag } from "./common";
import type { ApiCommand, Context } from "./types";

const RATE_FLAGS = ["per-second", "per-minute", "burst", "scope"] as const;
const CHANGE_FLAGS = [...RATE_FLAGS, "max-in-flight"] as const;

function formatLimit(key: LimitKey, limits: AgentLimits | LimitsOverride): string {
  switch (key) {
    case "rateLimit":
      return formatRateLimit(limits.rateLimit, NONE);
    case "maxInFlight":
      return limits.maxInFlight === undefined || limits.maxInFlight === null
        ? NONE
        : String(limits.maxInFlight);
    case "tenantWeights":
      return formatTenantWeights(limits.tenantWeights, NONE);
  }
}

/** The change flags' values, checked (a usage error names the flag), before anything is sent. */
function changeFlags(args: ParsedArgs) {
  if (args.has("per-second") && args.has("per-minute")) {
    throw new UsageError("give --per-second or --per-minute, not both");
  }
  if (args.flag("clear") && CHANGE_FLAGS.some((flag) => args.has(flag))) {
    throw new UsageError("--clear removes the override; it takes no other change flag");
  }
  return {
    perSecond: positiveNumber(args.string("per-second"), "per-second", MAX_RATE_PER_SECOND),
    perMinute: positiveNumber(args.string("per-minute"), "per-minute", MAX_RATE_PER_SECOND * 60),
    burst: positiveInt(args.string("burst"), "burst", MAX_BURST),
    scope: oneOf(args.string("scope"), "scope", RATE_LIMIT_SCOPES),
    maxInFlight: positiveInt(args.string("max-in-flight"), "max-in-flight", MAX_IN_FLIGHT),
  };
}

/**
 * The override to send: the current override with the flags applied. A rate limit is one object, so a flag that
 * changes part of it (`--burst`) starts from the rate in force (the override's, else the configured one).
 */
export function overrideFromFlags(args: ParsedArgs, current: AgentLimitsAnswer): LimitsOverride {
  const { perSecond, perMinute, burst, scope, maxInFlight } = changeFlags(args);
  const override: LimitsOverride = { ...(current.limits.override ?? {}) };
  if (RATE_FLAGS.some((flag) => args.has(flag))) {
    const base = current.limits.override?.rateLimit ?? current.limits.effective.rateLimit;
    if (perSecond === undefined && perMinute === undefined && base === undefined) {
      throw new UsageError(
        "the agent has no rate limit to change: give --per-second or --per-minute with --burst or --scope",
      );
    }
    const rate: RateLimit = { ...(base ?? {}) };
    if (perSecond !== undefined) {
      rate.perSecond = perSecond;
      delete rate.perMinute;
    }
    if (perMinute !== undefined) {
      rate.perMinute = perMinute;
      delete rate.perSecond;
    }
    if (burst !== undefined) rate.burst = burst;
    if (scope !== undefined) rate.scope = scope;
    override.rateLimit = rate;
  }
  if (maxInFlight !== undefined) override.maxInFlight = maxInFlight;
  return override;
}

function printLimits(context: Context, answer: AgentLimitsAnswer): void {
  const { configured, override, effective } = answer.limits;
  const rows = (["rateLimit", "maxInFlight", "tenantWeights"] as const).map((key) => {
    const overridden = override !== null && override[key] !== undefined;
    const from = overridden ? "override" : configured[key] !== undefined ? "config" : NONE;
    const label = { rateLimit: "rate limit", maxInFlight: "max in flight", tenantWeights: "tenant weights" }[
      key
    ];
    return [label, formatLimit(key, effective), from, formatLimit(key, configured)];
  });
  context.print(`limits of ${answer.topic}/${answer.agent} (fleet-wide; revision ${answer.revision})\n\n`);
  context.printTable(["limit", "enforced", "from", "configured"], rows);
}

export const limits: ApiCommand = {
  kind: "api",
  path: ["agent", "limits"],
  summary: "show or change an agent's fleet-wide rate limit and max in flight, live",
  description:
    "Without a change flag, shows the agent's fleet-wide limits: what workers enforce, whether it comes from the\n" +
    "agent's config or an operator's override, and the configured value. With flags, changes the override (the\n" +
    "other limits stay as they are) and every worker applies it within seconds, without a restart; the override\n" +
    "survives restarts and re-registrations. --clear removes the override: the configured limits apply again.\n" +
    "Every number is for the whole fleet: each worker enforces its share, by the partitions it owns. --burst is\n" +
    "how many events may start at once after a quiet spell (default: one second's worth); --scope tenant gives\n" +
    "each tenant_id the whole rate. docs/rate-limits.md explains the design and its error bound.",
  flags: [
    topicFlag(),
    nameFlag(),
    { name: "per-second", value: "n", description: "events per second, fleet-wide (fractions allowed)" },
    {
      name: "per-minute",
      value: "n",
      description: "events per minute, fleet-wide (instead of --per-second)",
    },
    { name: "burst", value: "n", description: "events that may start at once after a quiet spell" },
    { name: "scope", value: "agent|tenant", description: "one budget for the agent, or one per tenant_id" },
    { name: "max-in-flight", value: "n", description: "deliveries running at once, fleet-wide" },
    { name: "clear", description: "remove the override: the agent's configured limits apply again" },
  ],
  validate(args) {
    changeFlags(args);
  },
  examples: [
    "omnidaemon agent limits --topic llm.requests --name writer",
    "omnidaemon agent limits --topic llm.requests --name writer --per-second 50 --max-in-flight 20",
    "omnidaemon agent limits --topic llm.requests --name writer --per-minute 600 --scope tenant",
    "omnidaemon agent limits --topic llm.requests --name writer --clear",
  ],
  async run(context) {
    const { args, client } = context;
    const topic = args.required("topic");
    const name = args.required("name");
    let answer: AgentLimitsAnswer;
    if (args.flag("clear")) {
      answer = await client.clearLimits(topic, name);
    } else if (CHANGE_FLAGS.some((flag) => args.has(flag))) {
      const current = await client.getLimits(topic, name);
      answer = await client.setLimits(topic, name, overrideFromFlags(args, current));
    } else {
      answer = await client.getLimits(topic, name);
    }
    if (context.json) return context.printJson(answer);
    printLimits(context, answer);
    if (args.flag("clear") || CHANGE_FLAGS.some((flag) => args.has(flag))) {
      context.note("every worker applies it within seconds (through the control topic)");
    }
  },
};
