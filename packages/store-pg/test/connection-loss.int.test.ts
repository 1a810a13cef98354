// A connection that Postgres ends while the store holds it checked out of the pool (inside a transaction): a fast
// shutdown (`pg_ctl stop -m fast`), a restart or pg_terminate_backend all send 57P01 and close the socket. The
// store must turn that into a failed call, never into an uncaught 'error' that ends the process (the fault suite's
// "postgres down 30 s" scenario saw the coordinator exit 1 this way).
import { dropSchema, waitFor, uniqueName, withPostgres, delay } from "@omnidaemon/testkit";
import { newSchema, startStore } from "./support";

const schema = newSchema("connloss");

afterAll(async () => {
  await dropSchema(schema);
});

it("fails the call whose connection Postgres terminated mid-transaction, keeps the process up, and serves the next call", async () => {
  const applicationName = uniqueName("connloss");
  const store = await startStore(schema, { applicationName });
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => void uncaught.push(error);
  process.on("uncaughtException", onUncaught);
  try {
    const event = {
      taskId: uniqueName("task"),
      topic: "t",
      agent: "a",
      status: "completed" as const,
      attempt: 1,
      at: new Date(),
      result: { ok: true },
    };
    // Hold the tasks table so the store's transaction waits on it with its client checked out of the pool.
    await withPostgres(async (admin) => {
      await admin.query("begin");
      await admin.query(`lock table "${schema}".tasks in access exclusive mode`);
      const pending = store.tasks.applyEvents([event]);
      pending.catch(() => undefined);
      let waiting: number | undefined;
      await waitFor(
        "the store's session waiting on the lock",
        async () => {
          const { rows } = await admin.query<{ pid: number }>(
            "select pid from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'",
            [applicationName],
          );
          waiting = rows[0]?.pid;
          return waiting !== undefined;
        },
        10_000,
        50,
      );
      await admin.query("select pg_terminate_backend($1)", [waiting]);
      await expect(pending).rejects.toThrow();
      await admin.query("rollback");
    });
    // Give a late socket 'end'/'error' the chance to surface as an uncaught error.
    await delay(300);
    expect(uncaught).toEqual([]);
    const [record] = await store.tasks.applyEvents([event]);
    expect(record).toMatchObject({ status: "completed" });
  } finally {
    process.off("uncaughtException", onUncaught);
    await store.stop();
  }
});
