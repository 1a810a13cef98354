// The agents repository against the real Postgres: registration, durable desired state, revisions from the
// sequence, deletion with pending cleanup, and storage clear-agents.
import type { PgStore } from "../src";
import { dropSchema } from "@omnidaemon/testkit";
import { newSchema, startStore } from "./support";

const schema = newSchema("agents");
let store: PgStore;

beforeAll(async () => {
  store = await startStore(schema);
});

afterAll(async () => {
  await store?.stop();
  await dropSchema(schema);
});

// Every test uses its own topic, so they share the schema without seeing each other.
let topicCount = 0;
const newTopic = () => `topic-${++topicCount}`;

describe("agents repository", () => {
  it("registers an agent with its definition, active, with a revision", async () => {
    const topic = newTopic();
    const agent = await store.agents.upsert({
      topic,
      name: "file-processor",
      description: "Extracts text",
      version: "1.0.0",
      tags: ["file", "ocr"],
      config: { maxRetries: 3, nested: { a: [1, 2] } },
    });
    expect(agent).toMatchObject({
      topic,
      name: "file-processor",
      description: "Extracts text",
      version: "1.0.0",
      tags: ["file", "ocr"],
      config: { maxRetries: 3, nested: { a: [1, 2] } },
      state: "active",
      cleanup: null,
      deletedAt: null,
    });
    expect(agent.revision).toBeGreaterThan(0);
    expect(agent.registeredAt).toBeInstanceOf(Date);
    expect(await store.agents.get(topic, "file-processor")).toEqual(agent);
    expect(await store.agents.get(topic, "unknown")).toBeUndefined();
  });

  it("replaces the definition on re-registration and keeps registeredAt", async () => {
    const topic = newTopic();
    const first = await store.agents.upsert({ topic, name: "a", version: "1", tags: ["x"] });
    const second = await store.agents.upsert({ topic, name: "a", version: "2" });
    expect(second).toMatchObject({ version: "2", tags: [], config: {}, state: "active" });
    expect(second.registeredAt).toEqual(first.registeredAt);
    expect(second.revision).toBeGreaterThan(first.revision);
  });

  it("keeps a paused agent paused when it is registered again (desired state is durable)", async () => {
    const topic = newTopic();
    await store.agents.upsert({ topic, name: "a" });
    const paused = await store.agents.setState(topic, "a", "paused");
    expect(paused?.state).toBe("paused");
    // A worker restarting (or `kubectl scale`) registers the agent again.
    const again = await store.agents.upsert({ topic, name: "a", version: "2" });
    expect(again.state).toBe("paused");
    expect(again.revision).toBeGreaterThan(paused!.revision);
    expect((await store.agents.get(topic, "a"))?.state).toBe("paused");
  });

  it("makes a deleted agent active again on re-registration, cancelling its pending cleanup", async () => {
    const topic = newTopic();
    const original = await store.agents.upsert({ topic, name: "a" });
    const deleted = await store.agents.setState(topic, "a", "deleted", {
      cleanup: { deleteGroup: true, deleteDlq: true },
    });
    expect(deleted).toMatchObject({ state: "deleted", cleanup: { deleteGroup: true, deleteDlq: true } });
    expect(deleted?.deletedAt).toBeInstanceOf(Date);

    const back = await store.agents.upsert({ topic, name: "a" });
    expect(back).toMatchObject({ state: "active", cleanup: null, deletedAt: null });
    expect(back.registeredAt.getTime()).toBeGreaterThan(original.registeredAt.getTime());
    expect(await store.agents.listPendingCleanups()).not.toContainEqual(expect.objectContaining({ topic }));
  });

  it("gives every change a strictly higher revision, across agents", async () => {
    const topic = newTopic();
    const revisions = [
      (await store.agents.upsert({ topic, name: "a" })).revision,
      (await store.agents.upsert({ topic, name: "b" })).revision,
      (await store.agents.setState(topic, "a", "paused"))!.revision,
      (await store.agents.setState(topic, "a", "active"))!.revision,
      (await store.agents.setState(topic, "b", "deleted"))!.revision,
      (await store.agents.upsert({ topic, name: "a" })).revision,
    ];
    for (let i = 1; i < revisions.length; i += 1) expect(revisions[i]).toBeGreaterThan(revisions[i - 1]!);
  });

  it("orders concurrent changes of one agent: the highest revision is the state that stuck", async () => {
    const topic = newTopic();
    await store.agents.upsert({ topic, name: "a" });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.agents.setState(topic, "a", i % 2 === 0 ? "paused" : "active"),
      ),
    );
    const revisions = results.map((record) => record!.revision);
    expect(new Set(revisions).size).toBe(revisions.length);
    const last = results.reduce((a, b) => (a!.revision > b!.revision ? a : b))!;
    const stored = await store.agents.get(topic, "a");
    expect(stored).toMatchObject({ state: last.state, revision: last.revision });
  });

  it("returns undefined when setting the state of an unknown agent", async () => {
    expect(await store.agents.setState(newTopic(), "ghost", "paused")).toBeUndefined();
  });

  it("rejects an unknown state, naming the field", async () => {
    const topic = newTopic();
    await store.agents.upsert({ topic, name: "a" });
    await expect(store.agents.setState(topic, "a", "sleeping" as unknown as "paused")).rejects.toMatchObject({
      code: "INVALID_INPUT",
      field: "state",
    });
  });

  it("clears cleanup and deletedAt when an agent leaves the deleted state", async () => {
    const topic = newTopic();
    await store.agents.upsert({ topic, name: "a" });
    await store.agents.setState(topic, "a", "deleted", { cleanup: { deleteGroup: true, deleteDlq: false } });
    const resumed = await store.agents.setState(topic, "a", "active");
    expect(resumed).toMatchObject({ state: "active", cleanup: null, deletedAt: null });
  });

  it("lists pending cleanups until each is completed", async () => {
    const topic = newTopic();
    for (const name of ["a", "b", "c"]) await store.agents.upsert({ topic, name });
    await store.agents.setState(topic, "a", "deleted", { cleanup: { deleteGroup: true, deleteDlq: false } });
    await store.agents.setState(topic, "b", "deleted", { cleanup: { deleteGroup: false, deleteDlq: true } });
    // Deleted without asking for cleanup: nothing pending.
    await store.agents.setState(topic, "c", "deleted", { cleanup: { deleteGroup: false, deleteDlq: false } });

    const pending = (await store.agents.listPendingCleanups()).filter((agent) => agent.topic === topic);
    expect(pending.map((agent) => [agent.name, agent.cleanup])).toEqual([
      ["a", { deleteGroup: true, deleteDlq: false }],
      ["b", { deleteGroup: false, deleteDlq: true }],
    ]);

    expect(await store.agents.completeCleanup(topic, "a")).toBe(true);
    expect(await store.agents.completeCleanup(topic, "a")).toBe(false);
    expect(await store.agents.completeCleanup(topic, "c")).toBe(false);
    const left = (await store.agents.listPendingCleanups()).filter((agent) => agent.topic === topic);
    expect(left.map((agent) => agent.name)).toEqual(["b"]);
    // Cleanup done, the agent is still deleted.
    expect(await store.agents.get(topic, "a")).toMatchObject({ state: "deleted", cleanup: null });
  });

  it("lists agents by topic and overall, hiding deleted ones unless asked", async () => {
    const topic = newTopic();
    for (const name of ["c", "a", "b"]) await store.agents.upsert({ topic, name });
    await store.agents.setState(topic, "b", "deleted");
    expect((await store.agents.listByTopic(topic)).map((agent) => agent.name)).toEqual(["a", "c"]);
    expect(
      (await store.agents.listByTopic(topic, { includeDeleted: true })).map((agent) => agent.name),
    ).toEqual(["a", "b", "c"]);
    const all = await store.agents.list();
    expect(all.filter((agent) => agent.topic === topic).map((agent) => agent.name)).toEqual(["a", "c"]);
    const withDeleted = await store.agents.list({ includeDeleted: true });
    expect(withDeleted.filter((agent) => agent.topic === topic)).toHaveLength(3);
    const keys = all.map((agent) => `${agent.topic}/${agent.name}`);
    expect(keys).toEqual([...keys].sort());
  });

  it("removes an agent for good", async () => {
    const topic = newTopic();
    await store.agents.upsert({ topic, name: "a" });
    expect(await store.agents.remove(topic, "a")).toBe(true);
    expect(await store.agents.remove(topic, "a")).toBe(false);
    expect(await store.agents.get(topic, "a")).toBeUndefined();
  });

  it("rejects an invalid definition before touching the database, naming the field", async () => {
    await expect(store.agents.upsert({ topic: "", name: "a" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      field: "topic",
    });
    await expect(
      store.agents.upsert({ topic: "t", name: "a", tags: [1] as unknown as string[] }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", field: "tags" });
  });
});

describe("agents repository: clear-agents", () => {
  const clearSchema = newSchema("agents_clear");
  let clearStore: PgStore;

  beforeAll(async () => {
    clearStore = await startStore(clearSchema);
  });

  afterAll(async () => {
    await clearStore?.stop();
    await dropSchema(clearSchema);
  });

  it("soft-deletes every live agent with new revisions and returns them", async () => {
    const a = await clearStore.agents.upsert({ topic: "t1", name: "a" });
    await clearStore.agents.upsert({ topic: "t1", name: "b" });
    await clearStore.agents.setState("t1", "b", "paused");
    await clearStore.agents.upsert({ topic: "t2", name: "c" });
    await clearStore.agents.setState("t2", "c", "deleted", {
      cleanup: { deleteGroup: true, deleteDlq: false },
    });

    const cleared = await clearStore.agents.clearAll();
    expect(cleared.map((agent) => `${agent.topic}/${agent.name}`).sort()).toEqual(["t1/a", "t1/b"]);
    for (const agent of cleared) {
      expect(agent).toMatchObject({ state: "deleted", cleanup: null });
      expect(agent.revision).toBeGreaterThan(a.revision);
    }
    expect(await clearStore.agents.list()).toEqual([]);
    // An agent deleted before keeps its revision and its pending cleanup.
    expect(await clearStore.agents.get("t2", "c")).toMatchObject({
      state: "deleted",
      cleanup: { deleteGroup: true, deleteDlq: false },
    });
    expect(await clearStore.agents.clearAll()).toEqual([]);
  });
});
