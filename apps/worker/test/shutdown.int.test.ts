// Graceful shutdown of a worker process (the built CLI) carrying several busy agents: one budget
// (OMNIDAEMON_SHUTDOWN_TIMEOUT_MS) for the whole worker, not one per agent.
import {
  duplicates,
  freePort,
  newAgent,
  newTopic,
  Publisher,
  stopAll,
  waitFor,
  Worker,
  workerSuite,
  delay,
} from "@omnidaemon/testkit";

const suite = workerSuite();
const { leftovers } = suite;

describe("SIGTERM to a worker with two busy agents", () => {
  it("stops every agent's fetching at once and drains them in parallel within one 30 s budget: exit 0, every in-flight handler finishes, none is re-run after a restart", async () => {
    const agents = ["a", "b"].map((suffix) => ({
      topic: newTopic(`budget_${suffix}`),
      name: newAgent(`budget-${suffix}`),
      config: { concurrency: 2 },
    }));
    for (const spec of agents) leftovers.agent(spec.topic, spec.name);
    const publisher = await new Publisher().start();
    const url = `http://127.0.0.1:${await freePort()}`;
    const workerEnv = (delayMs: number): Record<string, string> => ({
      OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: "30000",
      FIXTURE_DELAY_MS: String(delayMs),
    });
    try {
      const first = new Worker({
        id: newAgent("budget-1"),
        agents: agents,
        coordinatorUrl: url,
        logDir: suite.log.dir,
        env: workerEnv(20_000),
      });
      await first.ready();
      const firstPid = await suite.log.pidOf(first.id);

      // Two 20 s handlers in flight per agent (its concurrency)…
      const inFlight = new Map<string, string[]>();
      for (const spec of agents) {
        inFlight.set(
          spec.name,
          await publisher.publishMany(spec.topic, [
            { content: { n: 1 }, key: "k1" },
            { content: { n: 2 }, key: "k2" },
          ]),
        );
      }
      await waitFor(
        "two handlers in flight per agent",
        () => agents.every((spec) => suite.log.lines({ event: "start", agent: spec.name }).length === 2),
        30_000,
        20,
      );
      // …and a backlog behind them, published after them so it never sits below them in a partition (a completed
      // offset above an unfinished one cannot be committed).
      const backlog = new Map<string, string[]>();
      for (const spec of agents) {
        backlog.set(
          spec.name,
          await publisher.publishMany(spec.topic, [
            { content: { n: 3 }, key: "k3" },
            { content: { n: 4 }, key: "k4" },
          ]),
        );
      }
      // Let the backlog reach the worker's buffers (its fetch waits at most 100 ms on an idle topic).
      await delay(1500);

      first.proc.term();
      // Within the budget: the handlers in flight end about 18 s after the signal, the closing steps take a few
      // seconds; a worker that lets the backlog start while another agent drains needs 20 s more.
      expect(await first.proc.waitExit(30_000)).toEqual({ code: 0, signal: null });
      for (const spec of agents) {
        const ended = suite.log.lines({ event: "end", agent: spec.name, pid: firstPid }).map((l) => l.taskId);
        // Every handler in flight at the signal finished; nothing of the backlog started after it.
        expect(new Set(ended)).toEqual(new Set(inFlight.get(spec.name)));
        expect(suite.log.lines({ event: "abort", agent: spec.name })).toEqual([]);
      }

      const second = new Worker({
        id: newAgent("budget-2"),
        agents: agents,
        coordinatorUrl: url,
        logDir: suite.log.dir,
        env: workerEnv(0),
      });
      await second.ready();
      for (const spec of agents) {
        const all = [...(inFlight.get(spec.name) ?? []), ...(backlog.get(spec.name) ?? [])];
        await waitFor(
          `every event of ${spec.name}`,
          () => all.every((id) => suite.log.ended(spec.name).has(id)),
          30_000,
          100,
        );
      }
      // Give a wrongly uncommitted event time to come back before looking for re-runs.
      await delay(2000);
      for (const spec of agents) {
        const started = suite.log.lines({ event: "start", agent: spec.name }).map((l) => l.taskId as string);
        expect(duplicates(started)).toEqual([]);
        expect(started).toHaveLength(4);
      }
      second.proc.term();
      expect(await second.proc.waitExit(30_000)).toEqual({ code: 0, signal: null });
    } finally {
      await stopAll(15_000);
      await publisher.stop();
    }
  });
});
