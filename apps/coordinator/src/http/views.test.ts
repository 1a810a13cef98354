import type { DlqEntry } from "@omnidaemon/bus-kafka";
import {
  dlqEntrySchema,
  dlqReplayResultSchema,
  dlqSummarySchema,
  metricsHistorySchema,
} from "@omnidaemon/protocol";
import { dlqEntryView, dlqReplayResultView, dlqSummaryView, metricsHistoryView } from "./views";

describe("the HTTP edge's views (records → the protocol's snake_case answers)", () => {
  // The user's content has camelCase keys; a generic key converter once renamed them (failWhileExists →
  // fail_while_exists), so a replayed event no longer matched what its producer had sent.
  const entry: DlqEntry = {
    partition: 0,
    offset: "7",
    key: "t-1",
    taskId: "t-1",
    envelope: {
      id: "t-1",
      topic: "orders",
      content: { failWhileExists: "/tmp/x", nested: { camelCase: 1 } },
      created_at: 1_700_000_000,
      delivery_attempts: 1,
    },
    rawValue: null,
    valueBytes: 120,
    errorClass: "TypeError",
    sourceTopic: "orders",
    deadLetteredAt: 1_700_000_001_000,
    replayed: false,
    headers: { "omni-error-class": "TypeError", traceparent: "00-abc" },
  };

  it("keeps a DLQ entry's envelope and headers exactly as they travelled: the user's content keys are not renamed", () => {
    const view = dlqEntryView(entry);
    expect(view.envelope).toEqual(entry.envelope);
    expect(view.envelope?.content).toEqual({ failWhileExists: "/tmp/x", nested: { camelCase: 1 } });
    expect(view.headers).toEqual(entry.headers);
    expect(view).toMatchObject({ task_id: "t-1", error_class: "TypeError", source_topic: "orders" });
    expect(dlqEntrySchema.parse(view)).toEqual(view);
  });

  it("keeps the content keys of the entries inside a replay result, replayed and skipped", () => {
    const view = dlqReplayResultView({
      dryRun: true,
      replayed: [entry],
      skipped: [{ entry, reason: "replayed before" }],
      notFound: [],
      replayedCount: 1,
      skippedCount: 1,
      truncated: false,
    });
    expect(view.replayed[0]?.envelope?.content).toEqual(entry.envelope?.content);
    expect(view.skipped[0]?.entry.envelope?.content).toEqual(entry.envelope?.content);
    expect(dlqReplayResultSchema.safeParse(view).success).toBe(true);
  });

  it("answers a DLQ summary in snake_case, error classes included", () => {
    const view = dlqSummaryView({
      topic: "orders",
      agent: "billing",
      dlqTopic: "omnidaemon.dlq.orders.billing",
      entries: 3,
      replayed: 1,
      errorClasses: [{ errorClass: "TypeError", count: 3 }],
      reasons: [{ reason: "retries_exhausted", count: 3 }],
      oldestAt: null,
      newestAt: null,
    });
    expect(view).toEqual({
      topic: "orders",
      agent: "billing",
      dlq_topic: "omnidaemon.dlq.orders.billing",
      entries: 3,
      replayed: 1,
      error_classes: [{ error_class: "TypeError", count: 3 }],
      reasons: [{ reason: "retries_exhausted", count: 3 }],
      oldest_at: null,
      newest_at: null,
    });
    expect(dlqSummarySchema.safeParse(view).success).toBe(true);
  });

  it("answers a metrics history with ISO times and snake_case counters", () => {
    const view = metricsHistoryView({
      topic: "orders",
      agent: "billing",
      sampleIntervalMs: 10_000,
      points: [
        {
          at: new Date("2026-01-01T00:00:10.000Z"),
          intervalMs: 10_000,
          received: 5,
          succeeded: 4,
          failed: 1,
          retried: 1,
          deadLettered: 0,
        },
      ],
    });
    expect(view.sample_interval_ms).toBe(10_000);
    expect(view.points).toEqual([
      {
        at: "2026-01-01T00:00:10.000Z",
        interval_ms: 10_000,
        received: 5,
        succeeded: 4,
        failed: 1,
        retried: 1,
        dead_lettered: 0,
      },
    ]);
    expect(metricsHistorySchema.safeParse(view).success).toBe(true);
  });
});
