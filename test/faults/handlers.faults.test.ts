// Faults inside the workload rather than the infrastructure: a handler that hangs ignoring its signal next to
// steady traffic, and a burst of ten times the steady rate. See docs/faults.md.
import { delay } from "@omnidaemon/testkit";
import { STEADY_RATE, SteadyLoad, runScenario } from "./support";

it("hanging handler: a callback that never settles and ignores its signal is reclaimed and dead-lettered, while the steady traffic on the same worker loses nothing", async () => {
  await runScenario("hanging handler", async (s) => {
    // The hanging agent gives up at its deadline without retrying, so its DLQ hand-off happens at the deadline
    // even when the engine keeps the key and the slot until the callback settles.
    const hangs = s.agent("hang", { reclaimIdleMs: 1_000, maxRetries: 0, concurrency: 4 }, "hang");
    const steady = s.agent("steady", { concurrency: 8 });
    await s.publisher.ensureTopic(hangs.topic);
    await s.publisher.ensureTopic(steady.topic);
    await s.worker("a", [hangs, steady]);
    await s.healthy();

    const load = new SteadyLoad(s.publisher, steady.topic, STEADY_RATE).start();
    await delay(2_000);
    const hangIds: string[] = [];
    const fault = await s.fault("three hanging callbacks", async () => {
      for (let i = 0; i < 3; i++) hangIds.push(await s.publisher.publishNow(hangs.topic, { i }));
      await delay(5_000);
    });
    let deadLettered = 0;
    const steadyOutcome = await s.conclude(fault, [{ spec: steady, load }], {
      pauseMs: 2_000,
      before: async () => {
        const dead = await s.waitDlq(hangs, (entries) =>
          hangIds.every((id) => entries.some((e) => e.task_id === id)),
        );
        for (const id of hangIds) {
          const entry = dead.find((e) => e.task_id === id);
          if (entry === undefined) {
            s.violations.push(`hanging event ${id} is not in the DLQ`);
            continue;
          }
          deadLettered++;
          if (entry.error_class !== "DeadlineExceededError") {
            s.violations.push(
              `hanging event ${id} was dead-lettered with ${String(entry.error_class)}, not its deadline`,
            );
          }
        }
      },
    });
    return {
      ...steadyOutcome,
      published: steadyOutcome.published + hangIds.length,
      processed: (steadyOutcome.processed ?? 0) + deadLettered,
      lost: (steadyOutcome.lost ?? 0) + hangIds.length - deadLettered,
    };
  });
}, 480_000);

it("burst 10×: ten times the steady rate for three seconds is absorbed; nothing lost, nothing repeated", async () => {
  await runScenario("burst 10×", async (s) => {
    const spec = s.agent("burst", { concurrency: 16 });
    await s.publisher.ensureTopic(spec.topic);
    await Promise.all([s.worker("a", [spec]), s.worker("b", [spec])]);
    await s.waitGroup(spec, 2);
    await s.healthy();

    const load = new SteadyLoad(s.publisher, spec.topic, STEADY_RATE).start();
    await delay(3_000);
    const fault = await s.fault("a burst of 10× the steady rate", async () => {
      load.setRate(STEADY_RATE * 10);
      await delay(3_000);
      load.setRate(STEADY_RATE);
    });
    return s.conclude(fault, [{ spec, load }], { pauseMs: 2_000 });
  });
}, 480_000);
