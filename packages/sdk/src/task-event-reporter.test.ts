import { BusError, createEnvelope, type OutgoingRecord, type Publisher } from "@omnidaemon/bus-kafka";
import pino from "pino";
import { TaskEventReporter, type TaskReportPolicy } from "./task-event-reporter";

/** A publisher that answers each send with the next scripted outcome (then acknowledges). */
function scriptedPublisher(outcomes: Array<Error | undefined>): Publisher & { sent: OutgoingRecord[] } {
  const sent: OutgoingRecord[] = [];
  return {
    sent,
    publish: () => Promise.reject(new Error("not used")),
    send(record) {
      sent.push(record);
      const outcome = outcomes.shift();
      return outcome === undefined ? Promise.resolve() : Promise.reject(outcome);
    },
  };
}

const envelope = createEnvelope({ topic: "t", content: "c" });
const logger = pino({ level: "silent" });

async function until(what: string, predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!predicate()) throw new Error(`never happened: ${what}`);
}

function parsed(record: OutgoingRecord | undefined): Record<string, unknown> {
  return JSON.parse(record?.value?.toString() ?? "{}") as Record<string, unknown>;
}

describe("TaskEventReporter", () => {
  it("sends a task event again after a retriable publish failure instead of losing it", async () => {
    const publisher = scriptedPublisher([new BusError("PUBLISH_FAILED", "broker restarting")]);
    new TaskEventReporter(publisher, "w1", logger, { retryDelayMs: 1 }).onStarted({
      envelope,
      attempt: 1,
      agent: "a",
    });
    await until("a second send", () => publisher.sent.length === 2);
    expect(parsed(publisher.sent[1])).toMatchObject({ task_id: envelope.id, status: "processing" });
  });

  it("says how many times a replayed event was replayed from the DLQ, and nothing for one never replayed", async () => {
    const publisher = scriptedPublisher([]);
    const reporter = new TaskEventReporter(publisher, "w1", logger, { retryDelayMs: 1 });
    reporter.onStarted({ envelope, attempt: 1, replays: 2, agent: "a" });
    reporter.onSucceeded({ envelope, attempt: 1, replays: 2, agent: "a", durationMs: 1, result: 1 });
    reporter.onStarted({ envelope, attempt: 1, replays: 0, agent: "b" });
    await until("three events sent", () => publisher.sent.length === 3);
    expect(publisher.sent.slice(0, 2).map((record) => parsed(record).replays)).toEqual([2, 2]);
    expect(parsed(publisher.sent[2])).not.toHaveProperty("replays");
  });

  it("gives up once the producer is stopped", async () => {
    const publisher = scriptedPublisher([new BusError("STOPPED", "stopped")]);
    new TaskEventReporter(publisher, "w1", logger, { retryDelayMs: 1 }).onStarted({
      envelope,
      attempt: 1,
      agent: "a",
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(publisher.sent).toHaveLength(1);
  });

  it("reports a completion whose result the broker refuses (too large) without the result", async () => {
    const publisher = scriptedPublisher([new BusError("PUBLISH_REJECTED", "MESSAGE_TOO_LARGE")]);
    new TaskEventReporter(publisher, "w1", logger, { retryDelayMs: 1 }).onSucceeded({
      envelope,
      attempt: 1,
      agent: "a",
      durationMs: 1,
      result: { big: "x" },
    });
    await until("a second send", () => publisher.sent.length === 2);
    expect(parsed(publisher.sent[0])).toMatchObject({ status: "completed", result: { big: "x" } });
    const second = parsed(publisher.sent[1]);
    expect(second).toMatchObject({ status: "completed", task_id: envelope.id });
    expect(second).not.toHaveProperty("result");
  });

  describe("per-agent policy (results, reportProcessingAfterMs)", () => {
    const failure = {
      durationMs: 1,
      error: new Error("boom"),
      summary: { class: "Error", message: "boom" },
      outcome: "retry" as const,
    };
    function reporter(policy: TaskReportPolicy) {
      const publisher = scriptedPublisher([]);
      const policies: Array<[string, string]> = [];
      const instance = new TaskEventReporter(publisher, "w1", logger, {
        policyOf: (topic, agent) => (policies.push([topic, agent]), policy),
      });
      const statuses = () => publisher.sent.map((record) => parsed(record).status);
      return { instance, publisher, statuses, policies };
    }

    it("skips processing for a delivery that ends before it is due, and marks the end so it counts as received", async () => {
      const { instance, publisher, statuses, policies } = reporter({
        results: "all",
        reportProcessingAfterMs: 60_000,
      });
      instance.onStarted({ envelope, attempt: 1, agent: "a" });
      instance.onSucceeded({ envelope, attempt: 1, agent: "a", durationMs: 1, result: 1 });
      await until("the completion sent", () => publisher.sent.length === 1);
      expect(statuses()).toEqual(["completed"]);
      expect(parsed(publisher.sent[0])).toMatchObject({ processing_skipped: true });
      expect(policies[0]).toEqual([envelope.topic, "a"]);
    });

    it("still reports processing for a delivery that runs longer, then its end unmarked", async () => {
      const { instance, publisher, statuses } = reporter({ results: "all", reportProcessingAfterMs: 20 });
      instance.onStarted({ envelope, attempt: 1, agent: "a" });
      await until("processing sent", () => publisher.sent.length === 1);
      instance.onSucceeded({ envelope, attempt: 1, agent: "a", durationMs: 30, result: 1 });
      await until("the completion sent", () => publisher.sent.length === 2);
      expect(statuses()).toEqual(["processing", "completed"]);
      expect(parsed(publisher.sent[1])).not.toHaveProperty("processing_skipped");
    });

    it('reports only failures with results: "failures"', async () => {
      const { instance, publisher, statuses } = reporter({ results: "failures", reportProcessingAfterMs: 0 });
      instance.onStarted({ envelope, attempt: 1, agent: "a" });
      instance.onFailed({ envelope, attempt: 1, agent: "a", ...failure });
      instance.onStarted({ envelope, attempt: 2, agent: "a" });
      instance.onSucceeded({ envelope, attempt: 2, agent: "a", durationMs: 1, result: 1 });
      await until("the failure sent", () => publisher.sent.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(statuses()).toEqual(["retrying"]);
    });

    it('reports nothing with results: "none"', async () => {
      const { instance, publisher } = reporter({ results: "none", reportProcessingAfterMs: 0 });
      instance.onStarted({ envelope, attempt: 1, agent: "a" });
      instance.onFailed({ envelope, attempt: 1, agent: "a", ...failure });
      instance.onSucceeded({ envelope, attempt: 2, agent: "a", durationMs: 1, result: 1 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(publisher.sent).toEqual([]);
    });
  });
});
