// One real worker process (the built CLI) at a time, next to a real coordinator process, on real Kafka and
// Postgres: per-key order and wide concurrency, per-delivery workdirs, callbacks that throw, hang or return
// non-JSON, webhooks, and the Prometheus series of a known run.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhookSignature } from "../src/webhooks";
import {
  type AgentSpec,
  type CoordinatorProcess,
  duplicates,
  FixtureLog,
  intervals,
  KafkaLeftovers,
  maxOverlap,
  newAgent,
  newTopic,
  Publisher,
  startCoordinatorProcess,
  stopAll,
  stopWorkers,
  waitFor,
  Worker,
} from "@omnidaemon/testkit";
import { metric } from "./support";

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

let coordinator: CoordinatorProcess;
const leftovers = new KafkaLeftovers();
let publisher: Publisher | undefined;
let log: FixtureLog;

beforeAll(async () => {
  coordinator = await startCoordinatorProcess();
});

beforeEach(async () => {
  log = new FixtureLog();
  publisher = await new Publisher().start();
});

afterEach(async () => {
  await stopWorkers(15_000);
  await publisher?.stop();
  publisher = undefined;
  log.remove();
});

afterAll(async () => {
  await stopAll(15_000);
  await coordinator?.close();
  await leftovers.clean();
});

function agentSpec(
  prefix: string,
  config: Record<string, unknown>,
  behaviour?: AgentSpec["behaviour"],
): AgentSpec {
  const spec: AgentSpec = { topic: newTopic(prefix), name: newAgent(prefix), config };
  if (behaviour) spec.behaviour = behaviour;
  leftovers.agent(spec.topic, spec.name);
  return spec;
}

function worker(id: string, agents: AgentSpec[], env: Record<string, string> = {}): Worker {
  return new Worker({ id: newAgent(id), agents, coordinatorUrl: coordinator.url, logDir: log.dir, env });
}

describe("keys, concurrency and workdirs", () => {
  it("never runs two events of one key at once, runs 200 keys concurrently on one worker, and gives each delivery its own workdir, removed afterwards", async () => {
    const pub = publisher as Publisher;
    const keyed = agentSpec("keyed", { concurrency: 32 });
    const wide = agentSpec("wide", { concurrency: 256 });
    // Published before the worker starts, so its first fetches hold the whole backlog.
    const keyedIds = await pub.publishMany(
      keyed.topic,
      range(100).map((i) => ({
        key: `k${i % 5}`,
        content: { key: `k${i % 5}`, i, delayMs: 50, workdir: true },
      })),
    );
    const wideIds = await pub.publishMany(
      wide.topic,
      range(200).map((i) => ({ key: `w${i}`, content: { key: `w${i}`, i, delayMs: 2000, workdir: true } })),
    );
    const w = worker("keys", [keyed, wide]);
    await w.ready();
    await waitFor(
      "every event of both agents",
      () => {
        const k = log.ended(keyed.name);
        const d = log.ended(wide.name);
        return keyedIds.every((id) => k.has(id)) && wideIds.every((id) => d.has(id));
      },
      60_000,
      200,
      () => `${log.ended(keyed.name).size}/100 keyed, ${log.ended(wide.name).size}/200 wide ended`,
    );

    // Same key: never overlapping, over the whole run.
    const keyedRuns = intervals(log.lines({ agent: keyed.name }));
    expect(keyedRuns).toHaveLength(100);
    for (const key of ["k0", "k1", "k2", "k3", "k4"]) {
      const runs = keyedRuns.filter((r) => r.key === key).sort((a, b) => a.start - b.start);
      expect(runs).toHaveLength(20);
      expect(maxOverlap(runs)).toBe(1);
      for (let i = 1; i < runs.length; i++) {
        expect(runs[i]?.start).toBeGreaterThanOrEqual(runs[i - 1]?.end as number);
      }
    }
    // Different keys did interleave (five keys, concurrency 32).
    expect(maxOverlap(keyedRuns)).toBeGreaterThan(1);

    // 200 distinct keys at once on one worker.
    const wideRuns = intervals(log.lines({ agent: wide.name }));
    expect(wideRuns).toHaveLength(200);
    expect(maxOverlap(wideRuns)).toBe(200);

    // One workdir per delivery, each gone once its delivery finished.
    const workdirs = log.lines({ event: "start" }).map((l) => l.workdir);
    expect(workdirs).toHaveLength(300);
    expect(workdirs.every((dir) => typeof dir === "string" && dir.length > 0)).toBe(true);
    expect(duplicates(workdirs)).toEqual([]);
    expect(workdirs.filter((dir) => existsSync(dir as string))).toEqual([]);
  });
});

describe("callbacks that fail", () => {
  it("dead-letters a callback that always throws after its retries, one that hangs at its deadline, and one that returns non-JSON at once; the worker stays live throughout", async () => {
    const pub = publisher as Publisher;
    const throws = agentSpec("throws", { maxRetries: 1, retryBackoffMs: 100 }, "throw");
    // A callback that ignores its signal keeps its key until it settles or abortGraceMs passes (docs/delivery.md):
    // a short grace lets its retry start, and then dead-letter, well within the wait below.
    const hangs = agentSpec(
      "hangs",
      { maxRetries: 1, retryBackoffMs: 100, reclaimIdleMs: 500, abortGraceMs: 1000 },
      "hang",
    );
    const nonJson = agentSpec("nonjson", { maxRetries: 3, retryBackoffMs: 100 }, "nonjson");
    const w = worker("failing", [throws, hangs, nonJson]);
    await w.ready();

    // Probe liveness all along, as a kubelet would.
    const livez: number[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        livez.push((await w.probe("/livez")).status);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    const throwId = await pub.publish(throws.topic, { what: "throw" });
    const hangId = await pub.publish(hangs.topic, { what: "hang" });
    const nonJsonId = await pub.publish(nonJson.topic, { what: "nonjson" });

    // Through the coordinator's REST API, as an operator sees it.
    const dlqOf = async (spec: AgentSpec): Promise<Array<Record<string, unknown>>> => {
      const answer = await coordinator.api(
        "GET",
        `/bus/dlq?topic=${encodeURIComponent(spec.topic)}&agent=${encodeURIComponent(spec.name)}`,
      );
      if (answer.status !== 200) throw new Error(`GET /bus/dlq answered ${answer.status}: ${answer.text}`);
      return answer.body as Array<Record<string, unknown>>;
    };
    const [throwDlq, hangDlq, nonJsonDlq] = await Promise.all(
      [throws, hangs, nonJson].map((spec) =>
        waitFor(
          `${spec.name}'s DLQ entry`,
          async () => {
            const entries = await dlqOf(spec);
            return entries.length > 0 ? entries : undefined;
          },
          30_000,
          250,
        ),
      ),
    );
    probing = false;
    await prober;

    expect(throwDlq).toEqual([
      expect.objectContaining({
        task_id: throwId,
        reason: "retries_exhausted",
        attempts: 2,
        error_class: "Error",
        error_message: expect.stringContaining("always fails"),
      }),
    ]);
    expect(log.lines({ event: "start", agent: throws.name }).map((l) => l.attempt)).toEqual([1, 2]);

    expect(hangDlq).toEqual([
      expect.objectContaining({
        task_id: hangId,
        reason: "retries_exhausted",
        attempts: 2,
        error_class: "DeadlineExceededError",
      }),
    ]);
    // Reclaimed at the deadline: the retry started no earlier than reclaimIdleMs after the first attempt.
    const hangStarts = log.lines({ event: "start", agent: hangs.name });
    expect(hangStarts.map((l) => l.attempt)).toEqual([1, 2]);
    expect((hangStarts[1]?.t as number) - (hangStarts[0]?.t as number)).toBeGreaterThanOrEqual(500);

    expect(nonJsonDlq).toEqual([
      expect.objectContaining({
        task_id: nonJsonId,
        reason: "non_retriable",
        attempts: 1,
        error_class: "ResultNotJsonError",
      }),
    ]);
    expect(log.lines({ event: "start", agent: nonJson.name })).toHaveLength(1);

    // The task records (reported by the worker through Kafka) say how each one ended, with the error.
    for (const [id, errorClass] of [
      [throwId, "Error"],
      [hangId, "DeadlineExceededError"],
      [nonJsonId, "ResultNotJsonError"],
    ] as const) {
      let last = "";
      await waitFor(
        `task ${id} dead_lettered with ${errorClass}`,
        async () => {
          const answer = await coordinator.api("GET", `/tasks/${id}`);
          last = `${answer.status} ${answer.text}`;
          const records = (answer.body?.records ?? []) as Array<{
            status: string;
            last_error: { class: string } | null;
          }>;
          return records.some((r) => r.status === "dead_lettered" && r.last_error?.class === errorClass);
        },
        15_000,
        250,
        () => `last answer: ${last}\n${coordinator.proc.tail()}`,
      );
    }

    // Up and live all along.
    expect(w.proc.running).toBe(true);
    expect(livez.length).toBeGreaterThan(3);
    expect(livez.filter((status) => status !== 200)).toEqual([]);
    expect((await w.probe("/livez")).status).toBe(200);
    expect((await w.probe("/readyz")).status).toBe(200);
  });
});

interface Received {
  url: string;
  method: string;
  headers: IncomingHttpHeaders;
  raw: string;
  answered: number;
}

/** A webhook receiver on 127.0.0.1: `/flaky…` answers 500 the first time and 200 after, anything else 200. */
async function receiver(): Promise<{ server: Server; base: string; requests: Received[] }> {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = req.url ?? "/";
      const seen = requests.filter((r) => r.url === url).length;
      const answered = url.startsWith("/down") || (url.startsWith("/flaky") && seen === 0) ? 500 : 200;
      requests.push({
        url,
        method: req.method ?? "",
        headers: req.headers,
        raw: Buffer.concat(chunks).toString("utf8"),
        answered,
      });
      res.writeHead(answered, { "content-type": "text/plain", connection: "close" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}`, requests };
}

describe("a dead letter replayed", () => {
  it("ends the task's record completed once the replay succeeds, counting the replay; the earlier failure stays as its last error", async () => {
    const pub = publisher as Publisher;
    const flaky = agentSpec("replayed", { maxRetries: 0 });
    // The handler fails while this file exists; deleting it is the fix.
    const bug = join(mkdtempSync(join(tmpdir(), "omnidaemon-bug-")), "bug");
    writeFileSync(bug, "");
    const id = await pub.publish(flaky.topic, { failWhileExists: bug });
    const w = worker("replayed", [flaky]);
    await w.ready();
    let last: unknown;
    const recordOf = async () => {
      const answer = await coordinator.api("GET", `/tasks/${id}`);
      last =
        answer.status === 200
          ? (answer.body.records as Array<Record<string, unknown>>).find((r) => r.agent === flaky.name)
          : undefined;
      return last as Record<string, unknown> | undefined;
    };
    const deadLettered = await waitFor("the task dead-lettered", async () => {
      const record = await recordOf();
      return record?.status === "dead_lettered" ? record : undefined;
    });
    expect(deadLettered).toMatchObject({ attempts: 1, replays: 0 });

    rmSync(bug);
    const replay = await coordinator.api("POST", "/bus/dlq/replay", {
      topic: flaky.topic,
      agent: flaky.name,
      ids: [id],
    });
    expect(replay.status).toBe(200);
    expect(replay.body.replayed_count).toBe(1);
    // Before the fix the record stayed dead_lettered: `dead_lettered` was final, whatever came after.
    const completed = await waitFor(
      "the replayed task's record to say completed",
      async () => {
        const record = await recordOf();
        return record?.status === "completed" ? record : undefined;
      },
      30_000,
      250,
      () => `record: ${JSON.stringify(last)}`,
    );
    expect(completed).toMatchObject({ attempts: 1, replays: 1, last_error: { class: "TypeError" } });
    expect(log.ended(flaky.name).has(id)).toBe(true);
  });
});

describe("webhooks", () => {
  const SECRET = "webhook-secret-0123456789abcdef";

  it("POSTs the result with a signature that verifies, retries a 500 until it gets a 2xx (at most OMNIDAEMON_WEBHOOK_MAX_ATTEMPTS times), and refuses a private address by default", async () => {
    const pub = publisher as Publisher;
    const hook = await receiver();
    try {
      const allowed = agentSpec("hooked", {});
      const strict = agentSpec("strict", {});
      const permissive = worker("hooks-allow", [allowed], {
        OMNIDAEMON_WEBHOOK_ALLOW_PRIVATE: "true",
        OMNIDAEMON_WEBHOOK_SECRET: SECRET,
        OMNIDAEMON_WEBHOOK_MAX_ATTEMPTS: "2",
      });
      const byDefault = worker("hooks-default", [strict]);
      await Promise.all([permissive.ready(), byDefault.ready()]);

      const okId = await pub.publish(allowed.topic, { echo: "hello" }, { webhook: `${hook.base}/ok` });
      const flakyId = await pub.publish(allowed.topic, { echo: "again" }, { webhook: `${hook.base}/flaky` });
      const downId = await pub.publish(allowed.topic, { echo: "lost" }, { webhook: `${hook.base}/down` });
      const refusedId = await pub.publish(
        strict.topic,
        { echo: "nope" },
        { webhook: `${hook.base}/refused` },
      );

      await waitFor(
        "the webhook POSTs",
        () =>
          hook.requests.some((r) => r.url === "/ok") &&
          hook.requests.filter((r) => r.url === "/flaky" && r.answered === 200).length === 1,
        20_000,
        100,
      );
      const ok = hook.requests.find((r) => r.url === "/ok") as Received;
      expect(ok.method).toBe("POST");
      expect(ok.headers["content-type"]).toBe("application/json");
      expect(ok.headers["x-omnidaemon-task-id"]).toBe(okId);
      expect(JSON.parse(ok.raw)).toEqual(
        expect.objectContaining({
          task_id: okId,
          topic: allowed.topic,
          agent: allowed.name,
          status: "completed",
          attempt: 1,
          result: expect.objectContaining({ ok: true, taskId: okId, echo: "hello" }),
        }),
      );
      expect(verifyWebhookSignature(SECRET, ok.headers, ok.raw)).toBe(true);
      expect(verifyWebhookSignature(`${SECRET}-wrong`, ok.headers, ok.raw)).toBe(false);
      expect(verifyWebhookSignature(SECRET, ok.headers, ok.raw.replace("hello", "hullo"))).toBe(false);

      // 500 first, then delivered on the retry; each attempt signed on its own.
      const flaky = hook.requests.filter((r) => r.url === "/flaky");
      expect(flaky.map((r) => [r.answered, r.headers["x-omnidaemon-attempt"]])).toEqual([
        [500, "1"],
        [200, "2"],
      ]);
      for (const r of flaky) {
        expect(JSON.parse(r.raw)).toEqual(expect.objectContaining({ task_id: flakyId, status: "completed" }));
        expect(verifyWebhookSignature(SECRET, r.headers, r.raw)).toBe(true);
      }
      // An endpoint that always answers 500: two attempts (OMNIDAEMON_WEBHOOK_MAX_ATTEMPTS=2), then given up.
      await waitFor(
        "the webhook to /down given up, in the metrics",
        async () =>
          metric(await permissive.metrics(), "omnidaemon_webhook_deliveries_total", {
            topic: allowed.topic,
            outcome: "failed",
          }) === 1,
        20_000,
      );
      const down = hook.requests.filter((r) => r.url === "/down");
      expect(down.map((r) => [r.headers["x-omnidaemon-task-id"], r.headers["x-omnidaemon-attempt"]])).toEqual(
        [
          [downId, "1"],
          [downId, "2"],
        ],
      );
      await waitFor(
        "two delivered webhooks in the metrics",
        async () =>
          metric(await permissive.metrics(), "omnidaemon_webhook_deliveries_total", {
            topic: allowed.topic,
            outcome: "delivered",
          }) === 2,
        10_000,
      );

      // The default worker refuses 127.0.0.1: nothing arrives, and the refusal is counted.
      await waitFor(
        "the refusal in the metrics",
        async () =>
          metric(await byDefault.metrics(), "omnidaemon_webhook_deliveries_total", {
            topic: strict.topic,
            outcome: "refused",
          }) === 1,
        20_000,
      );
      expect(log.ended(strict.name).has(refusedId)).toBe(true);
      expect(hook.requests.filter((r) => r.url === "/refused")).toEqual([]);
      const text = await byDefault.metrics();
      expect(metric(text, "omnidaemon_webhook_deliveries_total", { outcome: "delivered" }) ?? 0).toBe(0);
      expect(metric(text, "omnidaemon_webhook_deliveries_total", { outcome: "failed" }) ?? 0).toBe(0);
    } finally {
      await stopWorkers(15_000);
      await new Promise<void>((resolve) => hook.server.close(() => resolve()));
    }
  });
});

describe("Prometheus metrics of a worker", () => {
  it("shows the section 8 series with the counts of a known run: 10 events, 2 always failing with maxRetries 1", async () => {
    const pub = publisher as Publisher;
    const spec = agentSpec("metrics", { maxRetries: 1, retryBackoffMs: 50 });
    const w = worker("metrics", [spec]);
    await w.ready();
    expect((await w.probe("/livez")).status).toBe(200);
    expect((await w.probe("/readyz")).status).toBe(200);

    await pub.publishMany(
      spec.topic,
      range(10).map((i) => ({ content: { i, fail: i < 2, delayMs: 5 } })),
    );
    const at = { topic: spec.topic, agent: spec.name };
    const text = await waitFor(
      "the run to settle in /metrics",
      async () => {
        const t = await w.metrics();
        const settled =
          metric(t, "omnidaemon_events_succeeded_total", at) === 8 &&
          metric(t, "omnidaemon_events_dead_lettered_total", at) === 2 &&
          metric(t, "omnidaemon_events_in_flight", at) === 0 &&
          // Committed up to the end: lag back to 0 on every partition that saw events.
          metric(t, "omnidaemon_consumer_lag", at) === 0 &&
          // The DLQ manager counts the dead letters it wrote at once (its periodic read is 30 s away).
          metric(t, "omnidaemon_dlq_depth", at) === 2;
        return settled ? t : undefined;
      },
      30_000,
      200,
    );

    expect(metric(text, "omnidaemon_events_received_total", at)).toBe(10);
    expect(metric(text, "omnidaemon_events_succeeded_total", at)).toBe(8);
    expect(metric(text, "omnidaemon_events_retried_total", at)).toBe(2);
    expect(metric(text, "omnidaemon_events_failed_total", { ...at, outcome: "retry" })).toBe(2);
    expect(metric(text, "omnidaemon_events_failed_total", { ...at, outcome: "dead_letter" })).toBe(2);
    expect(metric(text, "omnidaemon_events_failed_total", { ...at, outcome: "dropped" })).toBeUndefined();
    expect(
      metric(text, "omnidaemon_events_dead_lettered_total", { ...at, reason: "retries_exhausted" }),
    ).toBe(2);
    // Every finished attempt: 8 successes + 2 × 2 failures.
    expect(metric(text, "omnidaemon_handler_duration_seconds_count", at)).toBe(12);
    expect(metric(text, "omnidaemon_handler_duration_seconds_bucket", { ...at, le: "+Inf" })).toBe(12);
    expect(metric(text, "omnidaemon_events_in_flight", at)).toBe(0);
    expect(metric(text, "omnidaemon_consumer_lag", at)).toBe(0);
    expect(metric(text, "omnidaemon_dlq_depth", at)).toBe(2);
    expect(metric(text, "omnidaemon_rebalances_total", at)).toBeGreaterThanOrEqual(1);
    expect(metric(text, "omnidaemon_offsets_committed_total", at)).toBeGreaterThanOrEqual(1);
    expect(metric(text, "omnidaemon_worker_uptime_seconds")).toBeGreaterThan(0);
    // The process's own series, under the worker's prefix.
    expect(metric(text, "omnidaemon_worker_process_cpu_seconds_total")).toBeGreaterThan(0);

    // The DLQ has exactly the two failing events; the fixture saw 8 + 2 × 2 attempts.
    expect(log.lines({ event: "start", agent: spec.name })).toHaveLength(12);
    expect(log.lines({ event: "fail", agent: spec.name })).toHaveLength(4);
    expect((await w.probe("/livez")).status).toBe(200);
    expect((await w.probe("/readyz")).status).toBe(200);
  });
});
