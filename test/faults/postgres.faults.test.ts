// PostgreSQL stopped for 30 s under load and started again on its data. Workers do not use it: they keep
// processing; the coordinator reports the outage in /health and catches up by itself. See docs/faults.md.
import { delay, stackCommand } from "@omnidaemon/testkit";
import { STEADY_RATE, SteadyLoad, runScenario } from "./support";

it("postgres down 30 s under load: workers keep processing, /health reports it and recovers by itself, every result is ingested afterwards", async () => {
  await runScenario("postgres down 30 s", async (s) => {
    const spec = s.agent("pg", { concurrency: 8 });
    await s.publisher.ensureTopic(spec.topic);
    await Promise.all([s.worker("a", [spec]), s.worker("b", [spec])]);
    await s.waitGroup(spec, 2);
    await s.healthy();

    const load = new SteadyLoad(s.publisher, spec.topic, STEADY_RATE).start();
    await delay(4_000);
    let stoppedAt = 0;
    const fault = await s.fault("Postgres stopped for 30 s", async () => {
      await stackCommand("stop", "postgres");
      stoppedAt = Date.now();
      await delay(30_000);
      await stackCommand("start", "postgres");
    });
    const during = s.tally.refresh().endedBetween(load.ids, stoppedAt + 1_000, fault.endAt);
    if (during === 0) s.violations.push("the workers processed nothing while Postgres was down");
    else s.notes.push(`${during} events processed while Postgres was down`);
    const seen = s.health.seen(stoppedAt + 2_000, fault.endAt);
    if (!seen.has("down") && !seen.has("degraded")) {
      s.violations.push(
        `/health never said down or degraded while Postgres was down (saw ${[...seen].join(", ")})`,
      );
    }

    // Postgres is not on the data path: nothing may run twice; every result is ingested once it is back.
    return s.conclude(fault, [{ spec, load }], { before: ([ids]) => s.checkResultsIngested(ids ?? []) });
  });
}, 480_000);
