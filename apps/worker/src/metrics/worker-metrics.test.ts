import { createEnvelope, type EngineObserver } from "@omnidaemon/bus-kafka";
import { Registry } from "prom-client";
import { WorkerMetrics } from "./worker-metrics";

const FILES = { topic: "file.uploaded", agent: "thumbnailer" };
const CHAT = { topic: "chat.request", agent: "llm" };
const files = createEnvelope({ topic: FILES.topic, content: { path: "/in/a.pdf" } });
const chat = createEnvelope({ topic: CHAT.topic, content: { prompt: "hi" } });

/** The value lines of one metric (HELP and TYPE lines dropped), as prom-client exposes them. */
async function values(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.getSingleMetricAsString(name);
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

describe("WorkerMetrics", () => {
  let registry: Registry;
  let clock: number;
  let metrics: WorkerMetrics;
  let observer: EngineObserver;

  beforeEach(() => {
    registry = new Registry();
    clock = 1_000;
    metrics = new WorkerMetrics({ registry, startedAt: 1_000, now: () => clock });
    observer = metrics;
  });

  /**
   * thumbnailer: four new events — e1 succeeds, e2 fails once then succeeds from the retry topic, e3 throws a
   * non-retriable error (DLQ), e4 is not an envelope (DLQ, invalid_record). llm: one event, fails, DLQ disabled.
   */
  function knownRun(): void {
    observer.onRebalance?.({ ...FILES, assigned: 2 });
    for (let i = 0; i < 4; i++) observer.onReceived?.({ ...FILES, retry: false });
    observer.onInFlight?.({ ...FILES, inFlight: 3 });
    observer.onStarted?.({ envelope: files, attempt: 1, agent: FILES.agent });
    observer.onSucceeded?.({ envelope: files, attempt: 1, agent: FILES.agent, durationMs: 4, result: null });
    observer.onFailed?.({
      envelope: files,
      attempt: 1,
      agent: FILES.agent,
      durationMs: 2000,
      error: new Error("boom"),
      summary: { class: "Error", message: "boom" },
      outcome: "retry",
    });
    observer.onFailed?.({
      envelope: files,
      attempt: 1,
      agent: FILES.agent,
      durationMs: 0.5,
      error: new Error("bad input"),
      summary: { class: "Error", message: "bad input" },
      outcome: "dead_letter",
    });
    observer.onDeadLettered?.({ ...FILES, reason: "non_retriable", envelope: files });
    observer.onDeadLettered?.({ ...FILES, reason: "invalid_record" });
    observer.onReceived?.({ ...FILES, retry: true });
    observer.onSucceeded?.({
      envelope: files,
      attempt: 2,
      agent: FILES.agent,
      durationMs: 1500,
      result: { ok: 1 },
    });
    observer.onInFlight?.({ ...FILES, inFlight: 0 });
    observer.onLag?.({ ...FILES, partition: 0, lag: 5 });
    observer.onLag?.({ ...FILES, partition: 1, lag: 0 });
    observer.onCommitted?.({ ...FILES, partitions: 2 });
    observer.onCommitted?.({ ...FILES, partitions: 1 });

    observer.onReceived?.({ ...CHAT, retry: false });
    observer.onFailed?.({
      envelope: chat,
      attempt: 1,
      agent: CHAT.agent,
      durationMs: 30,
      error: new Error("model down"),
      summary: { class: "Error", message: "model down" },
      outcome: "dropped",
    });
  }

  it("exposes the counts of a known run", async () => {
    knownRun();
    const f = 'topic="file.uploaded",agent="thumbnailer"';
    const c = 'topic="chat.request",agent="llm"';

    expect(await values(registry, "omnidaemon_events_received_total")).toEqual([
      `omnidaemon_events_received_total{${f}} 4`,
      `omnidaemon_events_received_total{${c}} 1`,
    ]);
    expect(await values(registry, "omnidaemon_events_succeeded_total")).toEqual([
      `omnidaemon_events_succeeded_total{${f}} 2`,
    ]);
    expect(await values(registry, "omnidaemon_events_failed_total")).toEqual([
      `omnidaemon_events_failed_total{${f},outcome="retry"} 1`,
      `omnidaemon_events_failed_total{${f},outcome="dead_letter"} 1`,
      `omnidaemon_events_failed_total{${c},outcome="dropped"} 1`,
    ]);
    expect(await values(registry, "omnidaemon_events_retried_total")).toEqual([
      `omnidaemon_events_retried_total{${f}} 1`,
    ]);
    expect(await values(registry, "omnidaemon_events_dead_lettered_total")).toEqual([
      `omnidaemon_events_dead_lettered_total{${f},reason="non_retriable"} 1`,
      `omnidaemon_events_dead_lettered_total{${f},reason="invalid_record"} 1`,
    ]);
    expect(await values(registry, "omnidaemon_events_in_flight")).toEqual([
      `omnidaemon_events_in_flight{${f}} 0`,
    ]);
    expect(await values(registry, "omnidaemon_consumer_lag")).toEqual([
      `omnidaemon_consumer_lag{${f},partition="0"} 5`,
      `omnidaemon_consumer_lag{${f},partition="1"} 0`,
    ]);
    expect(await values(registry, "omnidaemon_rebalances_total")).toEqual([
      `omnidaemon_rebalances_total{${f}} 1`,
    ]);
    expect(await values(registry, "omnidaemon_offsets_committed_total")).toEqual([
      `omnidaemon_offsets_committed_total{${f}} 3`,
    ]);
  });

  it("observes every finished attempt in the handler duration histogram", async () => {
    knownRun();
    const text = await registry.getSingleMetricAsString("omnidaemon_handler_duration_seconds");
    expect(text).toBe(
      [
        "# HELP omnidaemon_handler_duration_seconds Duration of one callback attempt, successful or not.",
        "# TYPE omnidaemon_handler_duration_seconds histogram",
        ...bucketLines('topic="file.uploaded",agent="thumbnailer"', {
          0.001: 1,
          0.005: 2,
          0.01: 2,
          0.025: 2,
          0.05: 2,
          0.1: 2,
          0.25: 2,
          0.5: 2,
          1: 2,
          2.5: 4,
          5: 4,
          10: 4,
          30: 4,
          60: 4,
          120: 4,
          300: 4,
          600: 4,
          "+Inf": 4,
        }),
        'omnidaemon_handler_duration_seconds_sum{topic="file.uploaded",agent="thumbnailer"} 3.5045',
        'omnidaemon_handler_duration_seconds_count{topic="file.uploaded",agent="thumbnailer"} 4',
        ...bucketLines('topic="chat.request",agent="llm"', {
          0.001: 0,
          0.005: 0,
          0.01: 0,
          0.025: 0,
          0.05: 1,
          0.1: 1,
          0.25: 1,
          0.5: 1,
          1: 1,
          2.5: 1,
          5: 1,
          10: 1,
          30: 1,
          60: 1,
          120: 1,
          300: 1,
          600: 1,
          "+Inf": 1,
        }),
        'omnidaemon_handler_duration_seconds_sum{topic="chat.request",agent="llm"} 0.03',
        'omnidaemon_handler_duration_seconds_count{topic="chat.request",agent="llm"} 1',
      ].join("\n"),
    );
  });

  it("drops stale lag series on a rebalance and accepts lag fed from outside for paused agents", async () => {
    knownRun();
    observer.onRebalance?.({ ...FILES, assigned: 1 });
    observer.onLag?.({ ...FILES, partition: 1, lag: 7 });
    metrics.setLag(CHAT.topic, CHAT.agent, 0, 12);
    metrics.setLag(CHAT.topic, CHAT.agent, 0, 10);

    expect(await values(registry, "omnidaemon_consumer_lag")).toEqual([
      'omnidaemon_consumer_lag{topic="file.uploaded",agent="thumbnailer",partition="1"} 7',
      'omnidaemon_consumer_lag{topic="chat.request",agent="llm",partition="0"} 10',
    ]);
    expect(await values(registry, "omnidaemon_rebalances_total")).toEqual([
      'omnidaemon_rebalances_total{topic="file.uploaded",agent="thumbnailer"} 2',
    ]);

    metrics.clearLag(CHAT.topic, CHAT.agent);
    metrics.clearLag("never.seen", "nobody");
    expect(await values(registry, "omnidaemon_consumer_lag")).toEqual([
      'omnidaemon_consumer_lag{topic="file.uploaded",agent="thumbnailer",partition="1"} 7',
    ]);
  });

  it("counts aborted callbacks that never settled within the abort grace", async () => {
    const abandoned = { taskId: "t-1", attempt: 1, abortGraceMs: 30_000 };
    observer.onCallbackAbandoned?.({ ...FILES, ...abandoned });
    observer.onCallbackAbandoned?.({ ...FILES, ...abandoned, taskId: "t-2" });
    expect(await values(registry, "omnidaemon_callbacks_abandoned_total")).toEqual([
      'omnidaemon_callbacks_abandoned_total{topic="file.uploaded",agent="thumbnailer"} 2',
    ]);
  });

  it("computes uptime when collected", async () => {
    clock = 61_500;
    expect(await values(registry, "omnidaemon_worker_uptime_seconds")).toEqual([
      "omnidaemon_worker_uptime_seconds 60.5",
    ]);
    clock = 121_000;
    expect(await values(registry, "omnidaemon_worker_uptime_seconds")).toEqual([
      "omnidaemon_worker_uptime_seconds 120",
    ]);
  });

  it("counts webhook deliveries by outcome", async () => {
    metrics.webhook("delivered", FILES);
    metrics.webhook("delivered", FILES);
    metrics.webhook("failed", FILES);
    metrics.webhook("refused", CHAT);
    expect(await values(registry, "omnidaemon_webhook_deliveries_total")).toEqual([
      'omnidaemon_webhook_deliveries_total{topic="file.uploaded",agent="thumbnailer",outcome="delivered"} 2',
      'omnidaemon_webhook_deliveries_total{topic="file.uploaded",agent="thumbnailer",outcome="failed"} 1',
      'omnidaemon_webhook_deliveries_total{topic="chat.request",agent="llm",outcome="refused"} 1',
    ]);
  });

  it("reads each agent's DLQ depth from its source whenever it is scraped, and drops agents that left", async () => {
    expect(await values(registry, "omnidaemon_dlq_depth")).toEqual([]);
    let depths = [
      { ...FILES, depth: 3 },
      { ...CHAT, depth: 0 },
    ];
    metrics.readDlqDepthsFrom({ depths: () => depths });
    expect(await values(registry, "omnidaemon_dlq_depth")).toEqual([
      'omnidaemon_dlq_depth{topic="file.uploaded",agent="thumbnailer"} 3',
      'omnidaemon_dlq_depth{topic="chat.request",agent="llm"} 0',
    ]);
    depths = [{ ...FILES, depth: 5 }];
    expect(await values(registry, "omnidaemon_dlq_depth")).toEqual([
      'omnidaemon_dlq_depth{topic="file.uploaded",agent="thumbnailer"} 5',
    ]);
  });

  it("registers only on the injected registry, every series of the spec", async () => {
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual([
      "omnidaemon_callbacks_abandoned_total",
      "omnidaemon_consumer_lag",
      "omnidaemon_dlq_depth",
      "omnidaemon_events_dead_lettered_total",
      "omnidaemon_events_failed_total",
      "omnidaemon_events_in_flight",
      "omnidaemon_events_received_total",
      "omnidaemon_events_retried_total",
      "omnidaemon_events_succeeded_total",
      "omnidaemon_handler_duration_seconds",
      "omnidaemon_offsets_committed_total",
      "omnidaemon_rebalances_total",
      "omnidaemon_webhook_deliveries_total",
      "omnidaemon_worker_uptime_seconds",
    ]);
    // A second worker in the same process (tests, embedded SDK) gets its own registry and its own counts.
    const other = new Registry();
    new WorkerMetrics({ registry: other }).onReceived({ ...FILES, retry: false });
    expect(await values(other, "omnidaemon_events_received_total")).toHaveLength(1);
    expect(await values(registry, "omnidaemon_events_received_total")).toEqual([]);
  });
});

function bucketLines(labels: string, counts: Record<string, number>): string[] {
  const order = [
    "0.001",
    "0.005",
    "0.01",
    "0.025",
    "0.05",
    "0.1",
    "0.25",
    "0.5",
    "1",
    "2.5",
    "5",
    "10",
    "30",
    "60",
    "120",
    "300",
    "600",
    "+Inf",
  ];
  return order.map((le) => `omnidaemon_handler_duration_seconds_bucket{le="${le}",${labels}} ${counts[le]}`);
}
