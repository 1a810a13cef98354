import type { ControlRecord, DesiredState } from "@omnidaemon/protocol";
import { applyControlRecord } from "./apply-control";
import { ADMITTED, Throttle } from "./throttle";

const T0 = 1_700_000_000_000;

const state = (limits?: DesiredState["limits"]): ControlRecord => ({
  kind: "desired_state",
  state: {
    topic: "t",
    agent: "a",
    state: "active",
    revision: 7,
    updated_at: new Date(T0).toISOString(),
    ...(limits === undefined ? {} : { limits }),
  },
});

function ownedThrottle(): Throttle {
  const throttle = new Throttle({ limits: { rateLimit: { perSecond: 100 } } });
  throttle.onAssignment(12, 24, T0 - 60_000);
  return throttle;
}

describe("applyControlRecord", () => {
  it("replaces the throttle's limits with the ones a desired state carries", () => {
    const throttle = ownedThrottle();
    expect(applyControlRecord(throttle, state({ rateLimit: { perSecond: 10 }, maxInFlight: 4 }), T0)).toBe(
      "limits",
    );
    expect(throttle.effectiveRate(T0)).toBe(10);
    expect(throttle.inFlightLimit).toBe(2);
  });

  it("removes every limit for a desired state whose limits are {}", () => {
    const throttle = ownedThrottle();
    applyControlRecord(throttle, state({}), T0);
    expect(throttle.effectiveRate(T0)).toBeUndefined();
    for (let i = 0; i < 500; i++) expect(throttle.admit("", T0)).toBe(ADMITTED);
  });

  it("keeps the worker's own limits for a desired state from a coordinator that predates limits", () => {
    const throttle = ownedThrottle();
    expect(applyControlRecord(throttle, state(), T0)).toBe("unchanged");
    expect(throttle.effectiveRate(T0)).toBe(100);
  });

  it("lowers the rate on another worker's rate hint, and holds it no longer than its retry-after", () => {
    const throttle = ownedThrottle();
    const hint: ControlRecord = {
      kind: "rate_hint",
      hint: {
        kind: "rate_hint",
        topic: "t",
        agent: "a",
        factor: 0.5,
        hold_until: T0 + 3_600_000,
        retry_after_ms: 1000,
        issued_at: new Date(T0).toISOString(),
        worker_id: "other",
      },
    };
    expect(applyControlRecord(throttle, hint, T0)).toBe("rate_hint");
    expect(throttle.effectiveRate(T0 + 1000)).toBe(50);
    expect(throttle.effectiveRate(T0 + 2000)).toBeGreaterThan(50);
  });
});
