import { LimitsFormError, formOfLimits, overrideOfForm } from "./limits-form";

describe("the limits form", () => {
  it("shows the limits in force, a per-minute rate per second, nothing for no limit", () => {
    expect(
      formOfLimits({ rateLimit: { perSecond: 50, burst: 20, scope: "tenant" }, maxInFlight: 8 }),
    ).toEqual({
      perSecond: "50",
      burst: "20",
      scope: "tenant",
      maxInFlight: "8",
    });
    expect(formOfLimits({ rateLimit: { perMinute: 120 } })).toEqual({
      perSecond: "2",
      burst: "",
      scope: "agent",
      maxInFlight: "",
    });
    expect(formOfLimits({})).toEqual({ perSecond: "", burst: "", scope: "agent", maxInFlight: "" });
  });

  it("asks for the typed rate and cap; an empty field is no limit (null), the override's tenant weights are kept", () => {
    const form = { perSecond: " 20 ", burst: "", scope: "agent" as const, maxInFlight: "4" };
    expect(overrideOfForm(form, null)).toEqual({
      rateLimit: { perSecond: 20, scope: "agent" },
      maxInFlight: 4,
    });
    expect(overrideOfForm({ ...form, burst: "5", maxInFlight: "" }, { tenantWeights: { acme: 3 } })).toEqual({
      rateLimit: { perSecond: 20, burst: 5, scope: "agent" },
      maxInFlight: null,
      tenantWeights: { acme: 3 },
    });
    expect(overrideOfForm({ perSecond: "", burst: "", scope: "agent", maxInFlight: "" }, null)).toEqual({
      rateLimit: null,
      maxInFlight: null,
    });
    expect(overrideOfForm({ ...form, perSecond: "0.5" }, null).rateLimit).toEqual({
      perSecond: 0.5,
      scope: "agent",
    });
  });

  it.each([
    [{ perSecond: "-1" }, "perSecond", /Events per second must be a number above 0/],
    [{ perSecond: "fast" }, "perSecond", /Events per second/],
    [{ burst: "2.5" }, "burst", /Burst must be a whole number above 0/],
    [{ maxInFlight: "0" }, "maxInFlight", /Max in flight must be a whole number above 0/],
    [{ perSecond: "", burst: "3" }, "burst", /Burst needs a rate/],
  ])("refuses %j, naming the field", (change, field, message) => {
    const form = { perSecond: "10", burst: "", scope: "agent" as const, maxInFlight: "", ...change };
    let error: unknown;
    try {
      overrideOfForm(form, null);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(LimitsFormError);
    expect(error).toMatchObject({ field, message: expect.stringMatching(message) });
  });
});
