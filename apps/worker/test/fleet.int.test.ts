// A fleet of real worker processes (the built CLI) sharing one agent, with a real coordinator process, real Kafka
// and real Postgres: load balancing, graceful and abrupt departures, and fleet-wide pause and resume.
import { OmniDaemon } from "@omnidaemon/sdk";
import {
  type AgentSpec,
  type CoordinatorProcess,
  delay,
  duplicates,
  type FixtureLine,
  FixtureLog,
  kafkaBrokers,
  KafkaLeftovers,
  newAgent,
  newTopic,
  Publisher,
  startCoordinatorProcess,
  stopAll,
  stopWorkers,
  testLogger as logger,
  waitFor,
  Worker,
} from "@omnidaemon/testkit";

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const ids = (lines: FixtureLine[]): string[] => lines.map((l) => l.taskId as string);

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
  // Topics and groups go once no client that used them is alive (the coordinator's admin among them).
  await coordinator?.close();
  await leftovers.clean();
});

function fleet(spec: AgentSpec, names: string[]): Worker[] {
  return names.map(
    (name) =>
      new Worker({
        id: `${spec.name}-${name}`,
        agents: [spec],
        coordinatorUrl: coordinator.url,
        logDir: log.dir,
      }),
  );
}

/** Every task id of `expected` has an "end" line of `agent`. */
function allEnded(agent: string, expected: string[]): boolean {
  const ended = log.ended(agent);
  return expected.every((id) => ended.has(id));
}

function progress(agent: string, expected: string[]): () => string {
  return () => {
    const ended = log.ended(agent);
    return `${expected.filter((id) => ended.has(id)).length}/${expected.length} ended`;
  };
}

describe("three worker processes carrying the same agent", () => {
  it("process every event exactly once; one stopped with SIGTERM mid-load exits 0, finishes its in-flight events, and nothing it completed is processed again", async () => {
    const topic = newTopic("fleet");
    const agent = newAgent("fleet");
    leftovers.agent(topic, agent);
    const pub = publisher as Publisher;
    await pub.ensureTopic(topic);
    const workers = fleet({ topic, name: agent, config: { concurrency: 4 } }, ["a", "b", "c"]);
    await Promise.all(workers.map((w) => w.ready()));
    await pub.waitGroupStable(topic, agent, 3);

    // 1. No failures, no membership change: exactly once, spread over the three processes.
    const first = await pub.publishMany(
      topic,
      range(60).map((i) => ({ content: { i, delayMs: 20 } })),
    );
    await waitFor("the first 60 events", () => allEnded(agent, first), 30_000, 100, progress(agent, first));
    const firstSet = new Set(first);
    const starts1 = log.lines({ event: "start", agent }).filter((l) => firstSet.has(l.taskId as string));
    const ends1 = log.lines({ event: "end", agent }).filter((l) => firstSet.has(l.taskId as string));
    expect(duplicates(ids(starts1))).toEqual([]);
    expect(duplicates(ids(ends1))).toEqual([]);
    expect(ends1).toHaveLength(60);
    expect(new Set(ends1.map((l) => l.pid)).size).toBe(3);
    // The same module loaded by three processes shares nothing: each counts its own deliveries from 1.
    for (const pid of new Set(starts1.map((l) => l.pid))) {
      const seqs = starts1.filter((l) => l.pid === pid).map((l) => l.seq as number);
      expect(seqs.sort((a, b) => a - b)).toEqual(range(seqs.length).map((i) => i + 1));
    }

    // 2. 300 events of 200 ms; SIGTERM one worker once it is busy with them.
    const victim = workers[2] as Worker;
    const victimPid = await log.pidOf(victim.id);
    const second = await pub.publishMany(
      topic,
      range(300).map((i) => ({ content: { i, delayMs: 200 } })),
    );
    const secondSet = new Set(second);
    await waitFor(
      "the victim to be busy with the second batch",
      () =>
        log.lines({ event: "start", agent, pid: victimPid }).filter((l) => secondSet.has(l.taskId as string))
          .length >= 8,
      30_000,
      20,
    );
    victim.proc.term();
    expect(await victim.proc.waitExit(30_000)).toEqual({ code: 0, signal: null });

    const victimStarts = log.lines({ event: "start", agent, pid: victimPid });
    const victimEnds = log.lines({ event: "end", agent, pid: victimPid });
    // Its in-flight events finished: an "end" for every "start", and nothing aborted.
    expect(new Set(ids(victimEnds))).toEqual(new Set(ids(victimStarts)));
    expect(log.lines({ event: "abort", agent, pid: victimPid })).toEqual([]);

    await waitFor("all 300 events", () => allEnded(agent, second), 60_000, 200, progress(agent, second));
    // Nothing the victim completed is processed again by the survivors: it committed before it left.
    const victimDone = new Set(ids(victimEnds));
    const repeated = log
      .lines({ event: "start", agent })
      .filter((l) => l.pid !== victimPid && victimDone.has(l.taskId as string));
    expect(repeated).toEqual([]);
    // Whatever was delivered twice was a survivor's, never the victim's (the next test is about those).
    const starts2 = log.lines({ event: "start", agent }).filter((l) => secondSet.has(l.taskId as string));
    const twice = new Set(duplicates(ids(starts2)));
    expect(starts2.filter((l) => twice.has(l.taskId as string) && l.pid === victimPid)).toEqual([]);
  });

  // Issue 5: "stop one with SIGTERM mid-load: … nothing is reprocessed after it leaves". The victim's own events are
  // not (test above); but kafkajs's default round-robin assignor reshuffles the survivors' partitions among them
  // when one member leaves, and AgentConsumer.onAssignment aborts (PartitionRevoked) whatever a survivor had in
  // flight on a partition it loses: the new owner runs it again. Made deterministic here: every event is in flight
  // at once, the victim's handlers are short (it leaves within ~0.5 s) and the survivors' outlast the rebalance.
  it("a worker leaving gracefully does not make the survivors re-run the events they had in flight (sticky assignment moves only its partitions)", async () => {
    const topic = newTopic("leave");
    const agent = newAgent("leave");
    leftovers.agent(topic, agent);
    const pub = publisher as Publisher;
    await pub.ensureTopic(topic);
    const spec: AgentSpec = { topic, name: agent, config: { concurrency: 64 } };
    const worker = (name: string, delayMs: number): Worker =>
      new Worker({
        id: `${agent}-${name}`,
        agents: [spec],
        coordinatorUrl: coordinator.url,
        logDir: log.dir,
        env: { FIXTURE_DELAY_MS: String(delayMs) },
      });
    const [a, b, victim] = [worker("a", 6_000), worker("b", 6_000), worker("c", 300)] as [
      Worker,
      Worker,
      Worker,
    ];
    await Promise.all([a, b, victim].map((w) => w.ready()));
    await pub.waitGroupStable(topic, agent, 3);
    const victimPid = await log.pidOf(victim.id);

    const published = await pub.publishMany(
      topic,
      range(36).map((i) => ({ content: { i } })),
    );
    await waitFor(
      "the victim to start its share",
      () => log.lines({ event: "start", pid: victimPid }).length > 0,
    );
    victim.proc.term();
    expect(await victim.proc.waitExit(20_000)).toEqual({ code: 0, signal: null });

    // Until every event ended, or an event was delivered a second time.
    await waitFor(
      "every event to end, or one to be delivered twice",
      () => allEnded(agent, published) || duplicates(ids(log.lines({ event: "start", agent }))).length > 0,
      30_000,
      100,
    );
    const lines = log.lines({ agent });
    const twice = new Set(duplicates(ids(lines.filter((l) => l.event === "start"))));
    const detail = lines
      .filter((l) => twice.has(l.taskId as string))
      .map(
        (l) =>
          `${(l.taskId as string).slice(0, 8)} pid ${l.pid} ${l.event}${l.reason ? ` (${l.reason})` : ""}`,
      );
    expect(detail).toEqual([]);
  });

  it("lose none of the events of a worker killed with SIGKILL mid-load: the survivors take over after the session timeout", async () => {
    const topic = newTopic("kill");
    const agent = newAgent("kill");
    leftovers.agent(topic, agent);
    const pub = publisher as Publisher;
    await pub.ensureTopic(topic);
    const workers = fleet({ topic, name: agent, config: { concurrency: 4 } }, ["a", "b", "c"]);
    await Promise.all(workers.map((w) => w.ready()));
    await pub.waitGroupStable(topic, agent, 3);

    const victim = workers[2] as Worker;
    const victimPid = await log.pidOf(victim.id);
    const published = await pub.publishMany(
      topic,
      range(300).map((i) => ({ content: { i, delayMs: 100 } })),
    );
    await waitFor(
      "the victim to be busy",
      () => log.lines({ event: "start", agent, pid: victimPid }).length >= 8,
      30_000,
      20,
    );
    const killedAt = Date.now();
    victim.proc.signalGroup("SIGKILL");
    expect(await victim.proc.waitExit(10_000)).toEqual({ code: null, signal: "SIGKILL" });
    const unfinished = log
      .lines({ event: "start", agent, pid: victimPid })
      .filter((start) => !log.ended(agent).has(start.taskId as string));
    expect(unfinished.length).toBeGreaterThan(0);

    // These workers keep the default session timeout (OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS, 30 s): allow for it.
    await waitFor(
      "every published event",
      () => allEnded(agent, published),
      60_000,
      250,
      progress(agent, published),
    );
    const tookOverAt = Math.max(
      ...unfinished.map(
        (u) =>
          log.lines({ event: "end", agent }).find((l) => l.taskId === u.taskId && l.pid !== victimPid)?.t ??
          0,
      ),
    );
    logger.info({ takeoverMs: tookOverAt - killedAt }, "survivors took over the killed worker's events");
    // Whatever the victim had in flight was done by a survivor.
    for (const u of unfinished) {
      expect(
        log.lines({ event: "end", agent }).some((l) => l.taskId === u.taskId && l.pid !== victimPid),
      ).toBe(true);
    }
  });

  it("pause through the SDK: all workers stop within 3 s, events published meanwhile wait, a worker started while paused consumes nothing until resume", async () => {
    const topic = newTopic("pause");
    const agent = newAgent("pause");
    leftovers.agent(topic, agent);
    const pub = publisher as Publisher;
    await pub.ensureTopic(topic);
    const spec: AgentSpec = { topic, name: agent, config: { concurrency: 4 } };
    const workers = fleet(spec, ["a", "b", "c"]);
    await Promise.all(workers.map((w) => w.ready()));
    await pub.waitGroupStable(topic, agent, 3);
    const sdk = new OmniDaemon({
      env: {
        OMNIDAEMON_COORDINATOR_URL: coordinator.url,
        OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
      },
      logger,
    });

    const before = await pub.publishMany(
      topic,
      range(150).map((i) => ({ content: { i, delayMs: 200 } })),
    );
    await waitFor("processing under way", () => log.ended(agent).size >= 20, 30_000, 20);

    const pausedAt = Date.now();
    await sdk.unsubscribeAgent({ topic, agentName: agent });
    // Every worker reports the agent paused in its heartbeat (every 5 s).
    const workerIds = workers.map((w) => w.id);
    await waitFor(
      "every worker to report the agent paused",
      async () => {
        const answer = await coordinator.api("GET", "/v1/workers");
        const mine = (
          answer.body as Array<{ id: string; agents: Array<{ topic: string; status: string }> }>
        ).filter((w) => workerIds.includes(w.id));
        return (
          mine.length === 3 &&
          mine.every((w) => w.agents.some((a) => a.topic === topic && a.status === "paused"))
        );
      },
      15_000,
      250,
    );
    const meanwhile = await pub.publishMany(
      topic,
      range(40).map((i) => ({ content: { i, meanwhile: true, delayMs: 200 } })),
    );

    // A fourth worker started while the agent is paused: it starts and is ready (paused agents do not count)…
    const late = new Worker({
      id: `${agent}-d`,
      agents: [spec],
      coordinatorUrl: coordinator.url,
      logDir: log.dir,
    });
    await late.ready();
    const latePid = await log.pidOf(late.id);
    await waitFor(
      "the late worker to report the agent paused",
      async () => {
        const answer = await coordinator.api("GET", "/v1/workers");
        const me = (
          answer.body as Array<{ id: string; agents: Array<{ topic: string; status: string }> }>
        ).find((w) => w.id === late.id);
        return me?.agents.some((a) => a.topic === topic && a.status === "paused") ?? false;
      },
      15_000,
      250,
    );
    // …and leave it at least 3 s past the pause before looking.
    await delay(Math.max(0, pausedAt + 4_000 - Date.now()));
    const resumedAt = Date.now();
    const quietStarts = log.lines({ event: "start", agent }).filter((l) => l.t > pausedAt + 3_000);
    expect(quietStarts).toEqual([]);
    expect(log.lines({ event: "start", agent, pid: latePid })).toEqual([]);
    const lastStart = Math.max(...log.lines({ event: "start", agent }).map((l) => l.t));
    logger.info({ lastStartAfterPauseMs: lastStart - pausedAt }, "the fleet stopped starting deliveries");

    await sdk.resumeAgent({ topic, agentName: agent });
    // After the resume the late worker joins the group with the others and takes a share of the partitions.
    await pub.waitGroupStable(topic, agent, 4);
    const all = [...before, ...meanwhile];
    await waitFor("every event after resume", () => allEnded(agent, all), 60_000, 200, progress(agent, all));

    const starts = log.lines({ event: "start", agent });
    expect(starts.filter((l) => l.t > pausedAt + 3_000 && l.t < resumedAt)).toEqual([]);
    const meanwhileSet = new Set(meanwhile);
    expect(starts.filter((l) => meanwhileSet.has(l.taskId as string) && l.t < resumedAt)).toEqual([]);
    // The late worker consumed only after the resume (and did take a share then).
    const lateStarts = log.lines({ event: "start", agent, pid: latePid });
    expect(lateStarts.filter((l) => l.t < resumedAt)).toEqual([]);
    await sdk.shutdown();
  });
});
