import { z } from "zod";
import {
  EXACTLY_ONE_RATE,
  agentLimitsSchema,
  effectiveLimits,
  limitsOfConfig,
  limitsOverrideSchema,
  rateLimitSchema,
  resolveRateLimit,
} from "./limits";

/** The first issue of a failed parse as `path: message`. */
function problem(schema: z.ZodType, value: unknown): string {
  const result = schema.safeParse(value);
  if (result.success) return "accepted";
  const issue = result.error.issues[0];
  return `${(issue?.path ?? []).join(".")}: ${issue?.message ?? ""}`;
}

describe("rateLimitSchema", () => {
  it("accepts a rate per second or per minute, with an optional burst and scope", () => {
    expect(rateLimitSchema.parse({ perSecond: 50 })).toEqual({ perSecond: 50 });
    expect(rateLimitSchema.parse({ perMinute: 0.5, burst: 1, scope: "tenant" })).toEqual({
      perMinute: 0.5,
      burst: 1,
      scope: "tenant",
    });
  });

  it.each([
    [{}, `: ${EXACTLY_ONE_RATE}`],
    [{ perSecond: 1, perMinute: 60 }, `: ${EXACTLY_ONE_RATE}`],
    [{ perSecond: 0 }, "perSecond: Too small: expected number to be >0"],
    [{ perSecond: -1 }, "perSecond: Too small: expected number to be >0"],
    [{ perSecond: 2_000_000 }, "perSecond: Too big: expected number to be <=1000000"],
    [{ perSecond: "5" }, "perSecond: Invalid input: expected number, received string"],
    [{ perSecond: 5, burst: 0 }, "burst: Too small: expected number to be >=1"],
    [{ perSecond: 5, burst: 1.5 }, "burst: Invalid input: expected int, received number"],
    [{ perSecond: 5, scope: "worker" }, 'scope: Invalid option: expected one of "agent"|"tenant"'],
    [{ perSecond: 5, perHour: 1 }, ': Unrecognized key: "perHour"'],
  ])("refuses %j naming the field", (value, expected) => {
    expect(problem(rateLimitSchema, value)).toBe(expected);
  });

  it("states exactly-one in its JSON Schema, so the OpenAPI document refuses what the validator refuses", () => {
    const json = z.toJSONSchema(rateLimitSchema, { io: "input" }) as Record<string, unknown>;
    expect(json.oneOf).toEqual([{ required: ["perSecond"] }, { required: ["perMinute"] }]);
    expect(json.additionalProperties).toBe(false);
  });
});

describe("agentLimitsSchema and limitsOverrideSchema", () => {
  it("refuses a bad maxInFlight or tenant weight naming the field", () => {
    expect(problem(agentLimitsSchema, { maxInFlight: 0 })).toBe(
      "maxInFlight: Too small: expected number to be >=1",
    );
    expect(problem(agentLimitsSchema, { maxInFlight: 2.5 })).toBe(
      "maxInFlight: Invalid input: expected int, received number",
    );
    expect(problem(agentLimitsSchema, { tenantWeights: { acme: 0 } })).toBe(
      "tenantWeights.acme: Too small: expected number to be >0",
    );
    expect(problem(agentLimitsSchema, { tenantWeights: { "": 1 } })).toMatch(/^tenantWeights/);
    expect(problem(agentLimitsSchema, { rateLimit: { perSecond: 1, perMinute: 1 } })).toBe(
      `rateLimit: ${EXACTLY_ONE_RATE}`,
    );
  });

  it("refuses tenant ids Postgres cannot hold as jsonb keys (NUL, a lone surrogate), but not emoji", () => {
    for (const tenant of ["a\u0000b", "\ud800", "x\udc00y"]) {
      expect(problem(agentLimitsSchema, { tenantWeights: { [tenant]: 1 } })).toMatch(/^tenantWeights/);
    }
    expect(agentLimitsSchema.parse({ tenantWeights: { "café 🚀": 2 } })).toEqual({
      tenantWeights: { "café 🚀": 2 },
    });
  });

  it("bounds the number of tenant weights", () => {
    const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`t${i}`, 1]));
    expect(problem(agentLimitsSchema, { tenantWeights: many })).toBe("tenantWeights: at most 1000 tenants");
  });

  it("lets an override remove a limit with null, but not the resolved limits", () => {
    expect(limitsOverrideSchema.parse({ rateLimit: null, maxInFlight: 4 })).toEqual({
      rateLimit: null,
      maxInFlight: 4,
    });
    expect(problem(agentLimitsSchema, { rateLimit: null })).toMatch(/^rateLimit: /);
    expect(problem(limitsOverrideSchema, { maxInflight: 4 })).toBe(': Unrecognized key: "maxInflight"');
  });
});

describe("effectiveLimits", () => {
  const config = {
    maxRetries: 2,
    rateLimit: { perSecond: 50 },
    maxInFlight: 20,
  };

  it("takes the limit keys of the config and nothing else", () => {
    expect(limitsOfConfig(config)).toEqual({ rateLimit: { perSecond: 50 }, maxInFlight: 20 });
    expect(limitsOfConfig({ maxRetries: 1 })).toEqual({});
  });

  it("leaves out a stored config key that does not parse instead of passing it to workers", () => {
    expect(limitsOfConfig({ rateLimit: { perSecond: -1 }, maxInFlight: 3 })).toEqual({ maxInFlight: 3 });
  });

  it("puts the override on top: a key replaces, null removes, an absent key keeps the configured one", () => {
    expect(effectiveLimits(config, null)).toEqual({ rateLimit: { perSecond: 50 }, maxInFlight: 20 });
    expect(effectiveLimits(config, { rateLimit: { perMinute: 600, scope: "tenant" } })).toEqual({
      rateLimit: { perMinute: 600, scope: "tenant" },
      maxInFlight: 20,
    });
    expect(effectiveLimits(config, { maxInFlight: null, tenantWeights: { acme: 3 } })).toEqual({
      rateLimit: { perSecond: 50 },
      tenantWeights: { acme: 3 },
    });
    expect(effectiveLimits({}, { rateLimit: null })).toEqual({});
  });
});

describe("resolveRateLimit", () => {
  it("converts per minute to per second and defaults the burst to one second of the rate, at least 1", () => {
    expect(resolveRateLimit({ perSecond: 50 })).toEqual({ perSecond: 50, burst: 50, scope: "agent" });
    expect(resolveRateLimit({ perSecond: 2.5 })).toEqual({ perSecond: 2.5, burst: 3, scope: "agent" });
    expect(resolveRateLimit({ perMinute: 600 })).toEqual({ perSecond: 10, burst: 10, scope: "agent" });
    expect(resolveRateLimit({ perMinute: 6, burst: 4, scope: "tenant" })).toEqual({
      perSecond: 0.1,
      burst: 4,
      scope: "tenant",
    });
    expect(resolveRateLimit({ perMinute: 1 }).burst).toBe(1);
  });
});
