// Workers leave under load: one of three SIGKILLed (its partitions go to the survivors after the session timeout),
// and the fleet scaled 1 → 3 → 1 (SIGTERM for the scale-down), as `kubectl scale` does. See docs/faults.md.
import { delay, type FixtureLine } from "@omnidaemon/testkit";
import { STEADY_RATE, SteadyLoad, runScenario } from "./support";

it("worker SIGKILL (1 of 3) under load: the survivors process its events; only what it had started runs twice", async () => {
  await runScenario("worker SIGKILL (1 of 3)", async (s) => {
    const spec = s.agent("kill", { concurrency: 4 });
    await s.publisher.ensureTopic(spec.topic);
    const [, , victim] = await Promise.all([
      s.worker("a", [spec]),
      s.worker("b", [spec]),
      s.worker("c", [spec]),
    ]);
    await s.waitGroup(spec, 3);
    await s.healthy();
    const victimPid = s.tally.refresh().pidOf(victim.id);
    if (victimPid === undefined) throw new Error(`no fixture pid for ${victim.id}`);

    const load = new SteadyLoad(s.publisher, spec.topic, STEADY_RATE, (i) => ({ i, delayMs: 50 })).start();
    await delay(5_000);
    const fault = await s.fault(`SIGKILL of ${victim.id}`, () => s.killWorker(victim));
    // Bounded by what was in flight: an event runs twice only if the killed worker had started it.
    const mayRepeat = (_id: string, starts: FixtureLine[]) => starts.some((start) => start.pid === victimPid);
    return s.conclude(fault, [{ spec, load, mayRepeat }]);
  });
}, 480_000);

it("scale 1 → 3 → 1 under load: nothing lost; repeats only around the membership changes; the workers scaled down exit 0", async () => {
  await runScenario("scale 1 → 3 → 1", async (s) => {
    const spec = s.agent("scale", { concurrency: 4 });
    await s.publisher.ensureTopic(spec.topic);
    await s.worker("a", [spec]);
    await s.waitGroup(spec, 1);
    await s.healthy();

    const load = new SteadyLoad(s.publisher, spec.topic, STEADY_RATE, (i) => ({ i, delayMs: 50 })).start();
    await delay(4_000);
    const added = await s.fault("scale up 1 → 3", async () => {
      await Promise.all([s.worker("b", [spec]), s.worker("c", [spec])]);
      await s.waitGroup(spec, 3);
    });
    await delay(4_000);
    const fault = await s.fault("scale down 3 → 1 (SIGTERM)", async () => {
      const [, b, c] = s.workers;
      await Promise.all([b, c].map((w) => (w ? s.stopWorker(w) : Promise.resolve())));
      await s.waitGroup(spec, 1);
    });
    s.notes.push(
      `scale-up took ${((added.endAt - added.at) / 1000).toFixed(1)} s until the group was stable`,
    );
    return s.conclude(fault, [{ spec, load, mayRepeat: s.inFaultWindow() }]);
  });
}, 480_000);
