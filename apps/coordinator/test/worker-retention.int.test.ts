// Stopped workers leave the registry after OMNIDAEMON_WORKER_RETENTION_MS: a real coordinator on real Postgres,
// workers registering over the worker protocol. The first suite runs the purge through the coordinator's own job
// (its handle) with the timer out of the way, so what stays is deterministic; the second lets the timer do it.
import { delay, dropSchema, uniqueName, waitFor } from "@omnidaemon/testkit";
import { newSchema, startCoordinator, type RunningCoordinator } from "./support";

const RETENTION_MS = 1500;

let coordinator: RunningCoordinator | undefined;
let schema: string;

afterEach(async () => {
  await coordinator?.close();
  coordinator = undefined;
  await dropSchema(schema);
});

async function start(options: { workerPurgeIntervalMs?: number }): Promise<RunningCoordinator> {
  schema = newSchema("retention");
  coordinator = await startCoordinator(
    { schema, heartbeatTimeoutMs: RETENTION_MS, workerRetentionMs: RETENTION_MS },
    options,
  );
  return coordinator;
}

async function register(on: RunningCoordinator): Promise<string> {
  const id = `int-${uniqueName("worker").replace(/_/g, "-")}`;
  const response = await on.request("POST", "/v1/workers", {
    json: { id, host: "int-host", pid: process.pid, version: "0.1.0", agents: [] },
  });
  expect(response.status).toBe(200);
  return id;
}

async function listedIds(on: RunningCoordinator): Promise<string[]> {
  const response = await on.request("GET", "/v1/workers");
  expect(response.status).toBe(200);
  return (response.body as Array<{ id: string }>).map((worker) => worker.id);
}

describe("the worker purge job", () => {
  test("purges workers stopped or silent for longer than the retention; live and recently stopped ones stay", async () => {
    const on = await start({ workerPurgeIntervalMs: 3_600_000 });
    const stopped = await register(on);
    expect((await on.request("DELETE", `/v1/workers/${stopped}`)).status).toBe(200);
    const killed = await register(on); // never deregisters, never heartbeats again: kill -9
    await delay(RETENTION_MS + 500);
    const alive = await register(on);
    const justStopped = await register(on);
    expect((await on.request("DELETE", `/v1/workers/${justStopped}`)).status).toBe(200);
    expect(await listedIds(on)).toEqual(expect.arrayContaining([stopped, killed, alive, justStopped]));

    expect(await on.handles.purger.purge()).toBe(2);

    const left = await listedIds(on);
    expect(left).not.toContain(stopped);
    expect(left).not.toContain(killed);
    expect(left).toEqual(expect.arrayContaining([alive, justStopped]));

    // Purged while merely silent: its next heartbeat is told to register again.
    const heartbeat = await on.request("PUT", `/v1/workers/${killed}/heartbeat`, { json: { agents: [] } });
    expect(heartbeat.status).toBe(200);
    expect(heartbeat.body).toEqual({ known: false });
  });
});

describe("the coordinator's timer", () => {
  test("purges a stopped worker on its own once the retention has passed", async () => {
    const on = await start({});
    const stopped = await register(on);
    expect((await on.request("DELETE", `/v1/workers/${stopped}`)).status).toBe(200);
    await waitFor("the stopped worker to leave the registry", async () =>
      (await listedIds(on)).includes(stopped) ? undefined : true,
    );
  });
});
