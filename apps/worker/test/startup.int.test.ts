// Starting a worker process (the built CLI): invalid agent modules are refused before anything connects, and a
// worker whose coordinator is down still starts, processes events on real Kafka, and shuts down cleanly.
import { join } from "node:path";
import {
  deadCoordinatorUrl,
  newAgent,
  newTopic,
  Publisher,
  stopAll,
  waitFor,
  Worker,
  workerSuite,
} from "@omnidaemon/testkit";
import { FIXTURES } from "./support";

const suite = workerSuite();
const { leftovers } = suite;

describe("invalid agent modules", () => {
  it("fail at start with exit code 2, naming the field (agents[0].config.maxRetries) or saying the export is not a list", async () => {
    const url = await deadCoordinatorUrl();
    const badConfig = new Worker({
      id: newAgent("bad-config"),
      module: join(FIXTURES, "invalid-max-retries.js"),
      coordinatorUrl: url,
      logDir: suite.log.dir,
    });
    const notAList = new Worker({
      id: newAgent("not-a-list"),
      module: join(FIXTURES, "not-a-list.js"),
      coordinatorUrl: url,
      logDir: suite.log.dir,
    });
    const [badExit, listExit] = await Promise.all([
      badConfig.proc.waitExit(20_000),
      notAList.proc.waitExit(20_000),
    ]);

    expect(badExit).toEqual({ code: 2, signal: null });
    expect(badConfig.proc.stderr).toContain("agents[0].config.maxRetries");
    expect(badConfig.proc.stderr).toMatch(/^omnidaemon worker: agents\[0\]\.config\.maxRetries: .+/m);

    expect(listExit).toEqual({ code: 2, signal: null });
    expect(notAList.proc.stderr).toContain("must export a list of agent definitions");
    expect(notAList.proc.stderr).toContain("not-a-list.js");
    // Refused before anything started: no "worker ready", no stack trace.
    for (const proc of [badConfig.proc, notAList.proc]) {
      expect(proc.stdout).not.toContain("worker ready");
      expect(proc.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe("a worker whose coordinator is down", () => {
  it("starts, processes events and exits 0 on SIGTERM", async () => {
    const topic = newTopic("nocoord");
    const agent = newAgent("nocoord");
    leftovers.agent(topic, agent);
    const publisher = await new Publisher().start();
    try {
      const w = new Worker({
        id: agent,
        agents: [{ topic, name: agent, config: { concurrency: 4 } }],
        coordinatorUrl: await deadCoordinatorUrl(),
        logDir: suite.log.dir,
      });
      await w.ready();
      expect((await w.probe("/livez")).status).toBe(200);

      const ids = await publisher.publishMany(
        topic,
        Array.from({ length: 20 }, (_, i) => ({ content: { i, delayMs: 20 } })),
      );
      await waitFor("every event", () => ids.every((id) => suite.log.ended(agent).has(id)), 30_000);
      // It noticed the coordinator is unreachable and kept going.
      expect(w.proc.stdout).toContain("coordinator not reachable");

      w.proc.term();
      expect(await w.proc.waitExit(20_000)).toEqual({ code: 0, signal: null });
    } finally {
      await stopAll(15_000);
      await publisher.stop();
    }
  });
});

describe("signals reaching a worker started through the CLI", () => {
  it("one Ctrl-C (SIGINT to the whole process group) shuts the worker down gracefully, exit 0: the CLI runs it in its own process, so it sees one signal", async () => {
    const topic = newTopic("ctrlc");
    const agent = newAgent("ctrlc");
    leftovers.agent(topic, agent);
    const publisher = await new Publisher().start();
    try {
      const w = new Worker({
        id: agent,
        agents: [{ topic, name: agent }],
        coordinatorUrl: await deadCoordinatorUrl(),
        logDir: suite.log.dir,
      });
      await w.ready();
      const id = await publisher.publish(topic, { delayMs: 1500 });
      await waitFor(
        "the event to start",
        () => suite.log.lines({ event: "start", agent }).length > 0,
        30_000,
        20,
      );
      // What a terminal does on Ctrl-C: SIGINT to every process of the foreground process group.
      w.proc.signalGroup("SIGINT");
      const exit = await w.proc.waitExit(20_000);
      // One Ctrl-C is one signal: drain, commit, exit 0 (a second Ctrl-C is the way to force).
      expect({ exit, finished: suite.log.ended(agent).has(id) }).toEqual({
        exit: { code: 0, signal: null },
        finished: true,
      });
    } finally {
      await stopAll(15_000);
      await publisher.stop();
    }
  });

  it("runs the worker in the CLI's own process, so SIGKILL ends it as SIGKILL (the shell shows 137), not 143", async () => {
    const topic = newTopic("sigkill");
    const agent = newAgent("sigkill");
    leftovers.agent(topic, agent);
    const w = new Worker({
      id: agent,
      agents: [{ topic, name: agent }],
      coordinatorUrl: await deadCoordinatorUrl(),
      logDir: suite.log.dir,
    });
    // Killed as soon as the app loaded the agents module (the OOM killer does not wait either).
    const appPid = await suite.log.pidOf(w.id);
    expect(appPid).toBe(w.proc.pid);
    process.kill(appPid, "SIGKILL");
    expect(await w.proc.waitExit(20_000)).toEqual({ code: null, signal: "SIGKILL" });
  });
});
