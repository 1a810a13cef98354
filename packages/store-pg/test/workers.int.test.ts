// The workers repository against the real Postgres: registration, heartbeats (false for unknown or stopped
// workers), liveness by heartbeat window on the database clock, deregistration and purging.
import type { PgStore, WorkerAgentStatus } from "../src";
import { dropSchema, uniqueName, delay } from "@omnidaemon/testkit";
import { newSchema, startStore } from "./support";

const schema = newSchema("workers");
let store: PgStore;

beforeAll(async () => {
  store = await startStore(schema);
});

afterAll(async () => {
  await store?.stop();
  await dropSchema(schema);
});

const consuming: WorkerAgentStatus = {
  topic: "file.uploaded",
  name: "file-processor",
  status: "running",
  member: true,
  assigned_partitions: 6,
  in_flight: 2,
};

function registration(id = uniqueName("worker")) {
  return { id, host: "host-1", pid: 4242, version: "0.1.0", agents: [consuming] };
}

describe("workers repository", () => {
  it("registers a worker with its agents and lists it as live", async () => {
    const worker = await store.workers.register(registration());
    expect(worker).toMatchObject({
      host: "host-1",
      pid: 4242,
      version: "0.1.0",
      agents: [consuming],
      stoppedAt: null,
    });
    expect(worker.lastHeartbeat.getTime()).toBeGreaterThanOrEqual(worker.startedAt.getTime());
    expect((await store.workers.listLive(15_000)).map((w) => w.id)).toContain(worker.id);
  });

  it("records heartbeats with the latest per-agent status", async () => {
    const { id } = await store.workers.register(registration());
    const paused = { ...consuming, status: "paused" as const, assigned_partitions: 0, in_flight: 0 };
    expect(await store.workers.heartbeat(id, [paused])).toBe(true);
    const [live] = (await store.workers.list()).filter((w) => w.id === id);
    expect(live?.agents).toEqual([paused]);
  });

  it("answers false to the heartbeat of an unknown worker, so it registers again", async () => {
    expect(await store.workers.heartbeat(uniqueName("ghost"), [])).toBe(false);
  });

  it("answers false to the heartbeat of a deregistered worker, and takes it back on re-registration", async () => {
    const first = await store.workers.register(registration());
    expect(await store.workers.deregister(first.id)).toBe(true);
    expect(await store.workers.deregister(first.id)).toBe(false);
    expect(await store.workers.heartbeat(first.id, [])).toBe(false);

    const again = await store.workers.register({ ...registration(first.id), agents: [] });
    expect(again.stoppedAt).toBeNull();
    expect(again.startedAt).toEqual(first.startedAt); // uptime survives re-registration
    expect(await store.workers.heartbeat(first.id, [])).toBe(true);
  });

  it("keeps the start time the worker reports", async () => {
    const startedAt = new Date(Date.now() - 60_000);
    const worker = await store.workers.register({ ...registration(), startedAt });
    expect(worker.startedAt).toEqual(startedAt);
  });

  it("lists as live only workers with a recent heartbeat that have not deregistered", async () => {
    const stale = await store.workers.register(registration());
    const stopped = await store.workers.register(registration());
    await store.workers.deregister(stopped.id);
    await delay(600);
    const fresh = await store.workers.register(registration());

    const live = (await store.workers.listLive(400)).map((w) => w.id);
    expect(live).toContain(fresh.id);
    expect(live).not.toContain(stale.id);
    expect(live).not.toContain(stopped.id);

    // A heartbeat brings the stale one back; the stopped one stays out until it registers again.
    await store.workers.heartbeat(stale.id, []);
    await store.workers.heartbeat(stopped.id, []);
    const after = (await store.workers.listLive(400)).map((w) => w.id);
    expect(after).toEqual(expect.arrayContaining([fresh.id, stale.id]));
    expect(after).not.toContain(stopped.id);

    // list() shows everyone, stopped included.
    const all = (await store.workers.list()).map((w) => w.id);
    expect(all).toEqual(expect.arrayContaining([stale.id, stopped.id, fresh.id]));
  });

  it("purges workers deregistered or silent for longer than the window, and only those", async () => {
    const gone = await store.workers.register(registration());
    await store.workers.deregister(gone.id);
    const killed = await store.workers.register(registration()); // never deregisters: kill -9
    await delay(500);
    const alive = await store.workers.register(registration());
    const justStopped = await store.workers.register(registration());
    await store.workers.deregister(justStopped.id);

    const purged = await store.workers.purgeStopped(300);
    expect(purged).toBeGreaterThanOrEqual(2);
    const left = (await store.workers.list()).map((w) => w.id);
    expect(left).not.toContain(gone.id);
    expect(left).not.toContain(killed.id);
    expect(left).toEqual(expect.arrayContaining([alive.id, justStopped.id]));
  });

  it("rejects an invalid registration, naming the field", async () => {
    await expect(store.workers.register({ ...registration(), pid: -1 })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      field: "pid",
    });
    await expect(store.workers.heartbeat("w", [{ ...consuming, in_flight: 1.5 }])).rejects.toMatchObject({
      code: "INVALID_INPUT",
      field: "agents[0].in_flight",
    });
  });
});
