import { controlKey, rateHintKey } from "@omnidaemon/protocol";
import { ADAPTIVE_RATE_DEFAULTS } from "../engine/limits/adaptive-rate";
import { Throttle } from "../engine/limits/throttle";
import { SYSTEM_TOPICS } from "../naming";
import { decodeControlRecord } from "./control-record";
import { desiredStateRecord } from "./desired-state";
import { rateHint, rateHintRecord } from "./rate-hint";

const T0 = 1_700_000_000_000;

describe("control records on the wire", () => {
  it("writes a throttle's hold as a rate hint keyed apart from the desired state, and reads it back", () => {
    const throttle = new Throttle({ limits: { rateLimit: { perSecond: 50 } } });
    throttle.onAssignment(4, 24, T0);
    const hold = throttle.onRetryAfter(1500, T0);
    if (hold === undefined) throw new Error("the throttle lowered nothing");
    const hint = rateHint({ topic: "t", agent: "a" }, hold, new Date(T0), "worker-1");
    const record = rateHintRecord(hint);
    expect(record.topic).toBe(SYSTEM_TOPICS.control);
    expect(record.key).toBe(rateHintKey("t", "a"));
    expect(decodeControlRecord(record.value as Buffer)).toEqual({
      record: {
        kind: "rate_hint",
        hint: {
          kind: "rate_hint",
          topic: "t",
          agent: "a",
          factor: ADAPTIVE_RATE_DEFAULTS.decreaseFactor,
          hold_until: T0 + 1500,
          retry_after_ms: 1500,
          issued_at: new Date(T0).toISOString(),
          worker_id: "worker-1",
        },
      },
    });
  });

  it("writes a desired state with its limits under the agent's key, and reads it back", () => {
    const record = desiredStateRecord({
      kind: "desired_state",
      topic: "t",
      agent: "a",
      state: "active",
      revision: 3,
      updated_at: new Date(T0).toISOString(),
      updated_by: "cli:alice",
      limits: { maxInFlight: 5 },
    });
    expect(record.key).toBe(controlKey("t", "a"));
    const decoded = decodeControlRecord(record.value as Buffer);
    expect(decoded).toMatchObject({
      record: { kind: "desired_state", state: { limits: { maxInFlight: 5 } } },
    });
  });

  it("says why a value is not a control record, and recognises a tombstone", () => {
    expect(decodeControlRecord(null)).toEqual({ tombstone: true });
    expect(decodeControlRecord(Buffer.from("{nope"))).toMatchObject({
      invalid: expect.stringMatching(/^not JSON/),
    });
    expect(decodeControlRecord(Buffer.from(JSON.stringify({ kind: "rate_hint", topic: "t" })))).toMatchObject(
      {
        invalid: expect.stringMatching(/agent/),
      },
    );
  });

  it("refuses to write a rate hint the schema refuses", () => {
    const hint = rateHint(
      { topic: "t", agent: "a" },
      { factor: 0, holdUntil: T0, retryAfterMs: 0 },
      new Date(T0),
    );
    expect(() => rateHintRecord(hint)).toThrow(/factor/);
  });
});
