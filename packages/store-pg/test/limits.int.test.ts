// The operator's limits override in the agents table (migration 0002_agent_limits) against the real Postgres: a new
// revision per change (so its control record is newer than every earlier one), durable across re-registration,
// gone with a delete and re-registration.
import type { PgStore } from "../src";
import { dropSchema, withPostgres } from "@omnidaemon/testkit";
import { newSchema, startStore } from "./support";

const schema = newSchema("limits");
let store: PgStore;

beforeAll(async () => {
  store = await startStore(schema);
});

afterAll(async () => {
  await store?.stop();
  await dropSchema(schema);
});

let topicCount = 0;
const newTopic = () => `limits-topic-${++topicCount}`;

describe("agents repository: limits override", () => {
  it("adds a nullable jsonb column, and a new agent has no override", async () => {
    const column = await withPostgres(async (client) => {
      const { rows } = await client.query<{ data_type: string; is_nullable: string }>(
        "select data_type, is_nullable from information_schema.columns " +
          "where table_schema = $1 and table_name = 'agents' and column_name = 'limits'",
        [schema],
      );
      return rows[0];
    });
    expect(column).toEqual({ data_type: "jsonb", is_nullable: "YES" });
    const agent = await store.agents.upsert({ topic: newTopic(), name: "writer" });
    expect(agent.limits).toBeNull();
  });

  it("stores the override as given, with a new revision each time, and null removes it", async () => {
    const topic = newTopic();
    const registered = await store.agents.upsert({ topic, name: "writer", config: { maxInFlight: 20 } });
    const override = {
      rateLimit: { perMinute: 600, burst: 10, scope: "tenant" as const },
      maxInFlight: null,
      tenantWeights: { acme: 3, "tenant with spaces": 0.5 },
    };
    const set = await store.agents.setLimits(topic, "writer", override);
    expect(set?.limits).toEqual(override);
    expect(set?.revision).toBeGreaterThan(registered.revision);
    expect(set?.config).toEqual({ maxInFlight: 20 });
    expect((await store.agents.get(topic, "writer"))?.limits).toEqual(override);
    const cleared = await store.agents.setLimits(topic, "writer", null);
    expect(cleared?.limits).toBeNull();
    expect(cleared?.revision).toBeGreaterThan(set?.revision ?? Number.POSITIVE_INFINITY);
  });

  it("keeps the override when a worker re-registers the agent with its code's config", async () => {
    const topic = newTopic();
    await store.agents.upsert({ topic, name: "writer", config: { rateLimit: { perSecond: 50 } } });
    await store.agents.setLimits(topic, "writer", { rateLimit: { perSecond: 5 } });
    const again = await store.agents.upsert({
      topic,
      name: "writer",
      config: { rateLimit: { perSecond: 50 } },
    });
    expect(again.limits).toEqual({ rateLimit: { perSecond: 5 } });
    expect(again.config).toEqual({ rateLimit: { perSecond: 50 } });
  });

  it("drops the override of a deleted agent that is registered anew", async () => {
    const topic = newTopic();
    await store.agents.upsert({ topic, name: "writer" });
    await store.agents.setLimits(topic, "writer", { maxInFlight: 2 });
    await store.agents.setState(topic, "writer", "deleted");
    const reborn = await store.agents.upsert({ topic, name: "writer" });
    expect(reborn.limits).toBeNull();
  });

  it("changes nothing for an unknown or deleted agent", async () => {
    const topic = newTopic();
    expect(await store.agents.setLimits(topic, "nobody", { maxInFlight: 2 })).toBeUndefined();
    await store.agents.upsert({ topic, name: "gone" });
    const deleted = await store.agents.setState(topic, "gone", "deleted");
    expect(await store.agents.setLimits(topic, "gone", { maxInFlight: 2 })).toBeUndefined();
    expect((await store.agents.get(topic, "gone"))?.revision).toBe(deleted?.revision);
  });

  it("refuses an override that is not an object, naming the field", async () => {
    const topic = newTopic();
    await store.agents.upsert({ topic, name: "writer" });
    await expect(store.agents.setLimits(topic, "writer", [] as never)).rejects.toMatchObject({
      field: "limits",
    });
  });
});
