// Poison next to steady traffic on one worker: records that are not JSON or not an envelope, a reply_to naming a
// topic that does not exist (the broker does not auto-create topics), a reply larger than its topic accepts, and a
// result with a NUL character (which Postgres' jsonb refuses). See docs/faults.md.
import { delay, newTopic } from "@omnidaemon/testkit";
import { STEADY_RATE, SteadyLoad, runScenario } from "./support";

it("poison records: invalid records and undeliverable replies are dead-lettered with a reason, a NUL in a result does not stop ingestion, other traffic is unaffected", async () => {
  await runScenario("poison records", async (s) => {
    const poisoned = s.agent("poisoned", { concurrency: 8, maxRetries: 2, retryBackoffMs: 200 });
    const other = s.agent("other", { concurrency: 8 });
    await s.publisher.ensureTopic(poisoned.topic);
    await s.publisher.ensureTopic(other.topic);
    const tinyReplies = await s.topicWithMaxBytes("tiny_replies", 16_384);
    const missingReplies = newTopic("missing_replies"); // never created
    await s.worker("a", [poisoned, other]);
    await s.healthy();

    const loadP = new SteadyLoad(s.publisher, poisoned.topic, STEADY_RATE / 2).start();
    const loadO = new SteadyLoad(s.publisher, other.topic, STEADY_RATE / 2).start();
    await delay(3_000);
    const behind: string[] = [];
    let missingReply = "";
    let oversizedReply = "";
    let nul = "";
    const fault = await s.fault("poison records", async () => {
      await s.publisher.publishRaw(poisoned.topic, "{this is not json", 0);
      await s.publisher.publishRaw(poisoned.topic, JSON.stringify({ hello: "not an envelope" }), 0);
      // The partition keeps moving: events behind the two poison records, on the same partition.
      for (let i = 0; i < 10; i++) {
        behind.push(await s.publisher.publishNow(poisoned.topic, { i, behind: true }, { partition: 0 }));
      }
      missingReply = await s.publisher.publishNow(
        poisoned.topic,
        { reply: "missing" },
        { replyTo: missingReplies },
      );
      oversizedReply = await s.publisher.publishNow(
        poisoned.topic,
        { reply: "oversized", echo: "x".repeat(64 * 1024) },
        { replyTo: tinyReplies },
      );
      nul = await s.publisher.publishNow(poisoned.topic, { echo: "before\u0000after" });
      await delay(5_000);
    });

    /** The four poison records dead-lettered, each with its reason; how many were. */
    const checkPoison = async (): Promise<number> => {
      const dead = await s.waitDlq(
        poisoned,
        (entries) =>
          entries.filter((e) => e.reason === "invalid_record").length >= 2 &&
          [missingReply, oversizedReply].every((id) => entries.some((e) => e.task_id === id)),
      );
      const invalid = dead.filter((e) => e.reason === "invalid_record").length;
      if (invalid !== 2) s.violations.push(`${invalid} invalid_record entries in the DLQ, expected 2`);
      let done = Math.min(invalid, 2);
      for (const [what, id] of [
        ["reply_to a missing topic", missingReply],
        ["an oversized reply", oversizedReply],
      ] as const) {
        const entry = dead.find((e) => e.task_id === id);
        if (entry === undefined) s.violations.push(`the task with ${what} (${id}) was not dead-lettered`);
        else if (!entry.error_message)
          s.violations.push(`the task with ${what} was dead-lettered without a reason`);
        else done++;
      }
      return done;
    };
    let poisonDone = 0;
    const traffic = await s.conclude(
      fault,
      [
        { spec: poisoned, load: loadP, also: [...behind, nul] },
        { spec: other, load: loadO },
      ],
      {
        before: async ([idsP = [], idsO = []]) => {
          poisonDone = await checkPoison();
          // Ingestion goes on after the NUL result: every other task's result reaches Postgres.
          await s.checkResultsIngested([...idsP.filter((id) => id !== nul), ...idsO]);
        },
      },
    );
    return {
      ...traffic,
      published: traffic.published + 4,
      processed: (traffic.processed ?? 0) + poisonDone,
      lost: (traffic.lost ?? 0) + 4 - poisonDone,
    };
  });
}, 480_000);
