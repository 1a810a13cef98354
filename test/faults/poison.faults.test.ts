// Poison next to steady traffic on one worker: records that are not JSON or not an envelope, a reply_to naming a
// topic that does not exist (the broker does not auto-create topics), a reply larger than its topic accepts, and a
// result with a NUL character (which Postgres' jsonb refuses). See docs/faults.md.
import { STEADY_RATE, SteadyLoad, delay, newTopic, runScenario } from "./support";

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
    const ended = (id: string): boolean => s.tally.ended(id);
    const recovery = await s.recovery(fault, [...loadP.ids, ...loadO.ids, ...behind], ended);
    await delay(3_000);
    const idsP = [...(await loadP.stop()), ...behind, nul].filter((id) => s.publisher.acked.has(id));
    const idsO = (await loadO.stop()).filter((id) => s.publisher.acked.has(id));

    const missing = await s.settle([...idsP, ...idsO], ended);
    const p = s.checkDeliveries(poisoned.name, idsP, () => false);
    const o = s.checkDeliveries(other.name, idsO, () => false);

    const dead = await s.waitDlq(
      poisoned,
      (entries) =>
        entries.filter((e) => e.reason === "invalid_record").length >= 2 &&
        [missingReply, oversizedReply].every((id) => entries.some((e) => e.task_id === id)),
    );
    const invalid = dead.filter((e) => e.reason === "invalid_record").length;
    if (invalid !== 2) s.violations.push(`${invalid} invalid_record entries in the DLQ, expected 2`);
    let poisonDone = Math.min(invalid, 2);
    for (const [what, id] of [
      ["reply_to a missing topic", missingReply],
      ["an oversized reply", oversizedReply],
    ] as const) {
      const entry = dead.find((e) => e.task_id === id);
      if (entry === undefined) s.violations.push(`the task with ${what} (${id}) was not dead-lettered`);
      else if (!entry.error_message)
        s.violations.push(`the task with ${what} was dead-lettered without a reason`);
      else poisonDone++;
    }
    // Ingestion goes on after the NUL result: every other task's result reaches Postgres.
    await s.checkResultsIngested([...idsP.filter((id) => id !== nul), ...idsO]);
    await s.finish();
    return {
      published: idsP.length + idsO.length + 4,
      processed: p.processed + o.processed + poisonDone,
      lost: missing.length + 4 - poisonDone,
      duplicates: p.duplicates.length + o.duplicates.length,
      recoverySeconds: recovery,
    };
  });
}, 480_000);
