// The audit log against the real Postgres: who did what to which agent, newest first, filtered by topic and agent.
import type { PgStore } from "../src";
import { dropSchema } from "@omnidaemon/testkit";
import { newSchema, startStore } from "./support";

const schema = newSchema("audit");
let store: PgStore;

beforeAll(async () => {
  store = await startStore(schema);
});

afterAll(async () => {
  await store?.stop();
  await dropSchema(schema);
});

describe("audit repository", () => {
  it("records who paused what, and lists it newest first", async () => {
    const paused = await store.audit.record({
      actor: "cli:alice",
      action: "pause",
      topic: "file.uploaded",
      agent: "file-processor",
      details: { reason: "maintenance" },
    });
    expect(paused).toMatchObject({
      actor: "cli:alice",
      action: "pause",
      topic: "file.uploaded",
      agent: "file-processor",
      details: { reason: "maintenance" },
    });
    expect(paused.at).toBeInstanceOf(Date);
    const resumed = await store.audit.record({
      actor: "cli:bob",
      action: "resume",
      topic: "file.uploaded",
      agent: "file-processor",
    });
    await store.audit.record({ actor: "api:token", action: "clear_agents", details: { count: 3 } });

    const forAgent = await store.audit.list({ topic: "file.uploaded", agent: "file-processor" });
    expect(forAgent.map((entry) => [entry.actor, entry.action])).toEqual([
      ["cli:bob", "resume"],
      ["cli:alice", "pause"],
    ]);
    expect(forAgent[0]).toEqual(resumed);
    const all = await store.audit.list({ limit: 2 });
    expect(all.map((entry) => entry.action)).toEqual(["clear_agents", "resume"]);
    expect(all[0]).toMatchObject({ topic: null, agent: null, details: { count: 3 } });
  });

  it("refuses an unknown action, naming the field", async () => {
    await expect(
      store.audit.record({ actor: "cli:eve", action: "drop_database" as unknown as "pause" }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", field: "action" });
    await expect(store.audit.record({ actor: "", action: "pause" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      field: "actor",
    });
  });
});
