import { MAX_TIMER_MS } from "@omnidaemon/lifecycle";
import { MAX_ERROR_MESSAGE_CHARS } from "@omnidaemon/protocol";
import {
  DeadlineExceededError,
  NonRetriableError,
  ReplyRejectedError,
  ResultNotJsonError,
  RetryAfterError,
} from "../handler-errors";
import {
  MAX_RATE_WAITS,
  failureVerdict,
  invalidRecordVerdict,
  retryDelayMs,
  type FailurePolicyConfig,
} from "./failure-policy";

const config: FailurePolicyConfig = {
  maxRetries: 3,
  dlqEnabled: true,
  retryBackoffMs: 1000,
  maxRetryBackoffMs: 60_000,
};
/** Jitter pinned to its upper bound: the backoff is exactly base × 2^(attempt − 1), capped. */
const high = (): number => 1;
const low = (): number => 0;

/** The same error as a callback bundled with its own copy of the SDK throws it: branded, not `instanceof`. */
function foreign(kind: "non-retriable" | "retry-after", fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`foreign ${kind}`), {
    [Symbol.for("omnidaemon.handler-error")]: kind,
    ...fields,
  });
}

describe("failureVerdict: every error class at every attempt (maxRetries 3, DLQ on)", () => {
  // attempt → expected outcome for an error that may be retried: attempts 1–3 retry, 4 (= maxRetries + 1) is the
  // last, and anything beyond (a replayed record that kept its attempt header) is exhausted too.
  const retriable: Array<[string, () => unknown]> = [
    ["a plain Error", () => new Error("boom")],
    ["a DeadlineExceededError (reclaimIdleMs passed)", () => new DeadlineExceededError(300_000)],
    ["a RetryAfterError", () => new RetryAfterError(1500)],
    ["a thrown string", () => "boom"],
    ["a thrown undefined", () => undefined],
    ["a thrown null", () => null],
  ];
  const nonRetriable: Array<[string, () => unknown]> = [
    ["a NonRetriableError", () => new NonRetriableError("bad input")],
    ["a ResultNotJsonError (the callback returned non-JSON)", () => new ResultNotJsonError("a Date")],
    ["a ReplyRejectedError (reply_to can never be published)", () => new ReplyRejectedError("no topic")],
    ["a NonRetriableError from another SDK bundle", () => foreign("non-retriable")],
  ];

  it.each(retriable)("%s is retried at attempts 1 to maxRetries", (_name, make) => {
    for (const attempt of [1, 2, 3]) {
      expect(failureVerdict({ error: make(), attempt }, config, high)).toMatchObject({ outcome: "retry" });
    }
  });

  it.each(retriable)(
    "%s is dead-lettered as retries_exhausted at attempt maxRetries + 1 and beyond",
    (_name, make) => {
      for (const attempt of [4, 5, 50]) {
        expect(failureVerdict({ error: make(), attempt }, config, high)).toMatchObject({
          outcome: "dead_letter",
          reason: "retries_exhausted",
        });
      }
    },
  );

  it.each(nonRetriable)(
    "%s is dead-lettered as non_retriable at once, retries left or not",
    (_name, make) => {
      for (const attempt of [1, 3, 4, 9]) {
        expect(failureVerdict({ error: make(), attempt }, config, high)).toMatchObject({
          outcome: "dead_letter",
          reason: "non_retriable",
        });
      }
    },
  );

  it.each([...retriable, ...nonRetriable])(
    "%s is dropped instead of dead-lettered when the agent disabled its DLQ",
    (_name, make) => {
      const verdict = failureVerdict({ error: make(), attempt: 4 }, { ...config, dlqEnabled: false }, high);
      expect(verdict.outcome).toBe("dropped");
      expect(verdict).toHaveProperty("reason");
    },
  );
});

describe("failureVerdict: maxRetries 0 means no retry", () => {
  const none = { ...config, maxRetries: 0 };

  it("dead-letters the first failure of a plain Error as retries_exhausted", () => {
    expect(failureVerdict({ error: new Error("boom"), attempt: 1 }, none)).toMatchObject({
      outcome: "dead_letter",
      reason: "retries_exhausted",
    });
  });

  it("does not retry a RetryAfterError either: its delay only sets when, never whether", () => {
    expect(failureVerdict({ error: new RetryAfterError(10), attempt: 1 }, none)).toMatchObject({
      outcome: "dead_letter",
      reason: "retries_exhausted",
    });
  });

  it("drops the first failure when the DLQ is disabled too", () => {
    expect(
      failureVerdict({ error: new Error("boom"), attempt: 1 }, { ...none, dlqEnabled: false }),
    ).toMatchObject({ outcome: "dropped", reason: "retries_exhausted" });
  });

  it("keeps a non-retriable error's reason", () => {
    expect(failureVerdict({ error: new NonRetriableError("no"), attempt: 1 }, none)).toMatchObject({
      outcome: "dead_letter",
      reason: "non_retriable",
    });
  });
});

describe("failureVerdict: the retry delay", () => {
  it("doubles per failed attempt from retryBackoffMs (jitter at its upper bound)", () => {
    const delays = [1, 2, 3].map(
      (attempt) => failureVerdict({ error: new Error("x"), attempt }, config, high) as { delayMs: number },
    );
    expect(delays.map((d) => d.delayMs)).toEqual([1000, 2000, 4000]);
  });

  it("keeps half the delay fixed and jitters the other half: between exp/2 and exp", () => {
    const many = { ...config, maxRetries: 20 };
    for (let attempt = 1; attempt <= 20; attempt++) {
      const exp = Math.min(60_000, 1000 * 2 ** (attempt - 1));
      for (const r of [0, 0.25, 0.5, 0.75, 0.999, 1]) {
        const verdict = failureVerdict({ error: new Error("x"), attempt }, many, () => r);
        if (verdict.outcome !== "retry") throw new Error(`attempt ${attempt} was not retried`);
        expect(verdict.delayMs).toBeGreaterThanOrEqual(exp / 2);
        expect(verdict.delayMs).toBeLessThanOrEqual(exp);
      }
      expect(failureVerdict({ error: new Error("x"), attempt }, many, low)).toMatchObject({
        delayMs: exp / 2,
      });
    }
  });

  it("is capped at maxRetryBackoffMs however many attempts failed", () => {
    const many = { ...config, maxRetries: 100 };
    expect(failureVerdict({ error: new Error("x"), attempt: 7 }, many, high)).toMatchObject({
      delayMs: 60_000,
    });
    expect(failureVerdict({ error: new Error("x"), attempt: 99 }, many, high)).toMatchObject({
      delayMs: 60_000,
    });
    expect(failureVerdict({ error: new Error("x"), attempt: 99 }, many, low)).toMatchObject({
      delayMs: 30_000,
    });
  });

  it("is 0 with retryBackoffMs 0 (retry at once)", () => {
    expect(
      failureVerdict({ error: new Error("x"), attempt: 2 }, { ...config, retryBackoffMs: 0 }, high),
    ).toMatchObject({ outcome: "retry", delayMs: 0 });
  });

  it("spreads the retries of events that failed together", () => {
    const delays = new Set(
      Array.from(
        { length: 50 },
        () =>
          (
            failureVerdict({ error: new Error("x"), attempt: 4 }, { ...config, maxRetries: 5 }) as {
              delayMs: number;
            }
          ).delayMs,
      ),
    );
    expect(delays.size).toBeGreaterThan(10);
  });

  it("takes a RetryAfterError's delay as it is: no backoff, no jitter, no maxRetryBackoffMs cap", () => {
    for (const random of [low, high]) {
      expect(failureVerdict({ error: new RetryAfterError(1500), attempt: 3 }, config, random)).toMatchObject({
        outcome: "retry",
        delayMs: 1500,
      });
    }
    expect(failureVerdict({ error: new RetryAfterError(600_000), attempt: 1 }, config)).toMatchObject({
      delayMs: 600_000,
    });
    expect(failureVerdict({ error: new RetryAfterError(0), attempt: 1 }, config, high)).toMatchObject({
      delayMs: 0,
    });
  });

  it("caps a RetryAfterError longer than a Node timer holds instead of letting the timer fire at once", () => {
    expect(retryDelayMs(new RetryAfterError(2 ** 40), 1, config)).toBe(MAX_TIMER_MS);
    expect(retryDelayMs(new RetryAfterError(MAX_TIMER_MS + 1), 1, config)).toBe(2 ** 31 - 1);
    expect(retryDelayMs(new RetryAfterError(MAX_TIMER_MS), 1, config)).toBe(MAX_TIMER_MS);
  });

  it("honours a RetryAfterError from another SDK bundle", () => {
    expect(retryDelayMs(foreign("retry-after", { retryAfterMs: 2500 }), 1, config, high)).toBe(2500);
  });

  it("falls back to the backoff for a retry-after error without a usable delay", () => {
    for (const retryAfterMs of [undefined, Number.NaN, -5, "soon"]) {
      expect(retryDelayMs(foreign("retry-after", { retryAfterMs }), 2, config, high)).toBe(2000);
    }
  });
});

describe("failureVerdict: the error summary", () => {
  it("names an Error by its class and carries its message", () => {
    expect(failureVerdict({ error: new TypeError("bad"), attempt: 1 }, config).summary).toEqual({
      class: "TypeError",
      message: "bad",
    });
    expect(failureVerdict({ error: new ResultNotJsonError("a Date"), attempt: 1 }, config).summary).toEqual({
      class: "ResultNotJsonError",
      message: "a Date",
    });
    expect(failureVerdict({ error: new DeadlineExceededError(50), attempt: 1 }, config).summary.class).toBe(
      "DeadlineExceededError",
    );
  });

  it("names a thrown non-Error by its type and its text", () => {
    expect(failureVerdict({ error: "boom", attempt: 1 }, config).summary).toEqual({
      class: "string",
      message: "boom",
    });
    expect(failureVerdict({ error: 42, attempt: 9 }, config).summary).toEqual({
      class: "number",
      message: "42",
    });
    expect(failureVerdict({ error: undefined, attempt: 1 }, config).summary).toEqual({
      class: "undefined",
      message: "undefined",
    });
  });

  it("cuts a long message at the protocol's limit", () => {
    const verdict = failureVerdict({ error: new Error("x".repeat(10_000)), attempt: 1 }, config);
    expect(verdict.summary.message).toHaveLength(MAX_ERROR_MESSAGE_CHARS);
  });
});

describe("failureVerdict: a push-back under fleet-wide limits is a wait (waitOnRetryAfter)", () => {
  const limited: FailurePolicyConfig = { ...config, maxRetries: 2, waitOnRetryAfter: true };

  it("retries a RetryAfterError after its delay as a wait at every attempt, maxRetries passed or 0", () => {
    for (const attempt of [1, 3, 10]) {
      expect(failureVerdict({ error: new RetryAfterError(1500), attempt, waits: 4 }, limited)).toEqual({
        outcome: "retry",
        delayMs: 1500,
        wait: true,
        summary: { class: "RetryAfterError", message: "retry after 1500 ms" },
      });
    }
    expect(
      failureVerdict({ error: new RetryAfterError(0), attempt: 1 }, { ...limited, maxRetries: 0 }),
    ).toMatchObject({ outcome: "retry", delayMs: 0, wait: true });
    expect(
      failureVerdict({ error: foreign("retry-after", { retryAfterMs: 20 }), attempt: 9 }, limited),
    ).toMatchObject({ outcome: "retry", delayMs: 20, wait: true });
  });

  it("counts it as an attempt again once the event waited MAX_RATE_WAITS times", () => {
    const error = new RetryAfterError(1000);
    expect(failureVerdict({ error, attempt: 1, waits: MAX_RATE_WAITS - 1 }, limited)).toMatchObject({
      wait: true,
    });
    expect(failureVerdict({ error, attempt: 1, waits: MAX_RATE_WAITS }, limited)).toEqual({
      outcome: "retry",
      delayMs: 1000,
      summary: { class: "RetryAfterError", message: "retry after 1000 ms" },
    });
    expect(failureVerdict({ error, attempt: 3, waits: MAX_RATE_WAITS }, limited)).toMatchObject({
      outcome: "dead_letter",
      reason: "retries_exhausted",
    });
  });

  it("leaves every other error to maxRetries, and a retry-after without a usable delay too", () => {
    expect(failureVerdict({ error: new Error("boom"), attempt: 3 }, limited)).toMatchObject({
      outcome: "dead_letter",
    });
    expect(failureVerdict({ error: new DeadlineExceededError(10), attempt: 3 }, limited)).toMatchObject({
      outcome: "dead_letter",
    });
    expect(
      failureVerdict({ error: foreign("retry-after", { retryAfterMs: "soon" }), attempt: 3 }, limited),
    ).toMatchObject({ outcome: "dead_letter" });
    expect(failureVerdict({ error: new Error("boom"), attempt: 1 }, limited)).not.toHaveProperty("wait");
  });

  it("is not a wait without limits: today's rule, the delay sets only when", () => {
    expect(
      failureVerdict({ error: new RetryAfterError(1000), attempt: 3 }, { ...config, maxRetries: 2 }),
    ).toMatchObject({
      outcome: "dead_letter",
      reason: "retries_exhausted",
    });
  });
});

describe("invalidRecordVerdict", () => {
  it("dead-letters a record that is not an envelope as invalid_record, with its reason as the summary", () => {
    const error = Object.assign(new Error("invalid envelope: id"), { name: "InvalidEnvelope" });
    expect(invalidRecordVerdict(error)).toEqual({
      outcome: "dead_letter",
      reason: "invalid_record",
      summary: { class: "InvalidEnvelope", message: "invalid envelope: id" },
    });
  });
});
