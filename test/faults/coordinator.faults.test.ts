// The coordinator SIGKILLed for 60 s under load, then started again on the same database schema and port. It is not
// on the data path: workers keep processing, and the results they reported meanwhile (task events in Kafka) are
// ingested once it is back. See docs/faults.md.
import { STEADY_RATE, SteadyLoad, delay, runScenario } from "./support";

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

    const ended = (id: string): boolean => s.tally.ended(id, spec.name);
    const recovery = await s.recovery(fault, load.ids, ended);
    await delay(3_000);
    const ids = (await load.stop()).filter((id) => s.publisher.acked.has(id));
    const missing = await s.settle(ids, ended);
    // The coordinator is not on the data path: nothing may run twice.
    const { processed, duplicates } = s.checkDeliveries(spec.name, ids, () => false);
    await s.checkResultsIngested(ids);
    await s.finish();
    return {
      published: ids.length,
      processed,
      lost: missing.length,
      duplicates: duplicates.length,
      recoverySeconds: recovery,
    };
  });
}, 480_000);
