// The Kafka broker restarts under load while back-pressure is engaged: a controlled stop (SIGTERM, what
// kafka-server-stop.sh sends) and a crash (SIGKILL of the JVM), each followed by a start on the same data once the
// worker has drained half its buffer, so back-pressure releases while the broker is away.
// See docs/faults.md.
import { stackCommand, waitFor } from "@omnidaemon/testkit";
import { STEADY_RATE, SteadyLoad, runScenario, type Scenario } from "./support";

/**
 * Events waiting before the worker starts: more than the engine buffers (`maxBufferedRecords`, today
 * max(10 000, 4 × concurrency), not settable by users), so fetching is paused by back-pressure when the broker goes.
 */
// Well above the buffer: on a busy machine thousands may finish before the first completion is seen.
const BACKLOG = 16_000;
const ENGINE_BUFFER = 10_000;

async function brokerRestart(s: Scenario, kill: boolean) {
  const spec = s.agent("broker", { concurrency: 4 });
  await s.publisher.ensureTopic(spec.topic);
  const backlog: string[] = [];
  for (let i = 0; i < BACKLOG; i++) backlog.push(s.publisher.publish(spec.topic, { i, delayMs: 5 }));
  await s.publisher.settled();
  if (s.publisher.failed.size > 0)
    throw new Error(`${s.publisher.failed.size} backlog events were not published`);

  await s.worker("a", [spec]);
  await s.healthy();
  const load = new SteadyLoad(s.publisher, spec.topic, STEADY_RATE, (i) => ({ i, delayMs: 5 })).start();
  await waitFor(
    "the worker to work through the backlog",
    () => backlog.some((id) => s.tally.refresh().ended(id)),
    60_000,
    100,
  );
  const pending = backlog.filter((id) => !s.tally.refresh().ended(id)).length;
  if (pending <= ENGINE_BUFFER) {
    s.violations.push(
      `only ${pending} events pending at the fault: back-pressure (buffer ${ENGINE_BUFFER}) not proven engaged`,
    );
  } else {
    s.notes.push(
      `${pending} events pending when the broker went (engine buffer ${ENGINE_BUFFER}): back-pressure engaged`,
    );
  }

  // The broker stays down until the worker has drained half its buffer, so back-pressure lets go (resumes
  // fetching) during the outage, when the client has no connection — the engine's crash window.
  const fault = await s.fault(
    kill ? "SIGKILL of the broker JVM" : "a controlled broker restart",
    async () => {
      const endedBefore = backlog.filter((id) => s.tally.refresh().ended(id)).length;
      await stackCommand("stop", "kafka", ...(kill ? ["--kill"] : []));
      const drained = await waitFor(
        "the worker to drain half its buffer while the broker is down",
        () => backlog.filter((id) => s.tally.refresh().ended(id)).length - endedBefore > ENGINE_BUFFER / 2,
        45_000,
        250,
      ).catch(() => false);
      if (drained)
        s.notes.push("half the buffer drained while the broker was down: back-pressure let go in the outage");
      else s.notes.push("the buffer did not drain by half within 45 s of the outage");
      await stackCommand("start", "kafka");
    },
  );
  // In flight during the outage: what was running or done but not yet committed may run again after it.
  return s.conclude(fault, [{ spec, load, also: backlog, mayRepeat: s.inFaultWindow("recovery") }], {
    recoveryTimeoutMs: 180_000,
    settleTimeoutMs: 120_000,
  });
}

it("broker restart (controlled) under load with back-pressure engaged: the worker stays up, nothing is lost, it stops cleanly afterwards", async () => {
  await runScenario("broker restart (controlled)", (s) => brokerRestart(s, false));
}, 480_000);

it("broker restart (SIGKILL of the JVM) under load with back-pressure engaged: the worker stays up, nothing is lost, it stops cleanly afterwards", async () => {
  await runScenario("broker restart (SIGKILL)", (s) => brokerRestart(s, true));
}, 480_000);
