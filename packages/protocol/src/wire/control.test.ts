import { z } from "zod";
import { controlKey, desiredStateSchema, parseControlRecord, rateHintKey, rateHintSchema } from "./control";

const OLD_RECORD = {
  topic: "file.uploaded",
  agent: "file-processor",
  state: "paused",
  revision: 42,
  updated_at: "2026-11-22T02:30:00.000Z",
  updated_by: "cli:alice",
};

const NEW_RECORD = {
  ...OLD_RECORD,
  kind: "desired_state",
  limits: { rateLimit: { perSecond: 50, scope: "tenant" }, maxInFlight: 10 },
};

const HINT = {
  kind: "rate_hint",
  topic: "file.uploaded",
  agent: "file-processor",
  factor: 0.8,
  hold_until: 1_800_000_000_000,
  retry_after_ms: 2000,
  issued_at: "2026-11-22T02:30:00.000Z",
  worker_id: "host-1-abc",
};

describe("control records", () => {
  it("parses a record written before kinds and limits existed as a desired state without limits", () => {
    const record = parseControlRecord(OLD_RECORD);
    expect(record).toEqual({ kind: "desired_state", state: OLD_RECORD });
    expect(record.kind === "desired_state" && record.state.limits).toBeUndefined();
  });

  it("parses a desired state that carries the limits to enforce", () => {
    const record = parseControlRecord(NEW_RECORD);
    expect(record.kind).toBe("desired_state");
    expect(record.kind === "desired_state" && record.state.limits).toEqual(NEW_RECORD.limits);
  });

  it("is read by a reader that predates limits: the desired state of before, the new fields ignored", () => {
    // The schema of the control record before this change, verbatim: what workers of the previous version run.
    const previous = z.object({
      topic: z.string().min(1),
      agent: z.string().min(1),
      state: z.enum(["active", "paused", "deleted"]),
      revision: z.number().int().nonnegative(),
      updated_at: z.string(),
      updated_by: z.string().nullish(),
    });
    expect(previous.parse(NEW_RECORD)).toEqual(OLD_RECORD);
    // And a rate hint is not a desired state to it (a warning, not a wrong state).
    expect(previous.safeParse(HINT).success).toBe(false);
  });

  it("parses a rate hint by its kind, and never takes one for a desired state", () => {
    expect(parseControlRecord(HINT)).toEqual({ kind: "rate_hint", hint: HINT });
    expect(desiredStateSchema.safeParse(HINT).success).toBe(false);
  });

  it.each([
    ["a factor of 0", { ...HINT, factor: 0 }, "factor"],
    ["a factor above 1", { ...HINT, factor: 1.5 }, "factor"],
    ["a fractional hold", { ...HINT, hold_until: 1.5 }, "hold_until"],
    ["no retry-after", { ...HINT, retry_after_ms: undefined }, "retry_after_ms"],
  ])("refuses a rate hint with %s", (_name, value, field) => {
    const result = rateHintSchema.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });

  it("refuses a record that is neither kind", () => {
    expect(() => parseControlRecord({ topic: "t" })).toThrow(z.ZodError);
    expect(() => parseControlRecord(null)).toThrow(z.ZodError);
    expect(() => parseControlRecord({ ...NEW_RECORD, limits: { maxInFlight: 0 } })).toThrow(/maxInFlight/);
  });

  it("keys a rate hint apart from the agent's desired state, so compaction keeps both", () => {
    expect(rateHintKey("t", "a")).toBe("t/a/rate-hint");
    expect(rateHintKey("t", "a")).not.toBe(controlKey("t", "a"));
  });
});
