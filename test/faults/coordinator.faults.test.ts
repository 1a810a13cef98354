// The coordinator SIGKILLed for 60 s under load, then started again on the same database schema and port. It is not
// on the data path: workers keep processing, and the results they reported meanwhile (task events in Kafka) are
// ingested once it is back. See docs/faults.md.
import { delay } from "@omnidaemon/testkit";
import { STEADY_RATE, SteadyLoad, runScenario } from "./support";

it("coordinator killed 60 s under load: workers keep processing, results reported meanwhile are ingested after it returns, /health back to running", async () => {
  await runScenario("coordinator killed 60 s", async (s) => {
    const spec = s.agent("coord", { concurrency: 8 });
    await s.publisher.ensureTopic(spec.topic);
    await Promise.all([s.worker("a", [spec]), s.worker("b", [spec])]);
    await s.waitGroup(spec, 2);
    await s.healthy();

    const load = new SteadyLoad(s.publisher, spec.topic, STEADY_RATE).start();
    await delay(4_000);
    const killedAt = Date.now();
    const fault = await s.fault("the coordinator SIGKILLed for 60 s", () => s.killCoordinatorFor(60_000));
    const during = s.tally.refresh().endedBetween(load.ids, killedAt + 1_000, killedAt + 60_000);
    if (during === 0) s.violations.push("the workers processed nothing while the coordinator was down");
    else s.notes.push(`${during} events processed while the coordinator was down`);

    // The coordinator is not on the data path: nothing may run twice; the results reported meanwhile arrive.
    return s.conclude(fault, [{ spec, load }], { before: ([ids]) => s.checkResultsIngested(ids ?? []) });
  });
}, 480_000);
