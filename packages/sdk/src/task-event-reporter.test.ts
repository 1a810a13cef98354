import { BusError, createEnvelope, type OutgoingRecord, type Publisher } from "@omnidaemon/bus-kafka";
import pino from "pino";
import { TaskEventReporter } from "./task-event-reporter";

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
});
