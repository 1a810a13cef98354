import { startTestApp, type TestApp } from "../testing/test-app";

describe("bus routes", () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
    await t.services.registerAgent({ topic: "t", name: "a" }, { name: "seed" });
    t.services.calls.length = 0;
  });
  afterEach(() => t.close());

  it("GET /bus/groups, with and without stream", async () => {
    expect((await t.request("GET", "/bus/groups")).status).toBe(200);
    const response = await t.request("GET", "/bus/groups?stream=t");
    expect(response.body).toEqual([{ group_id: "omnidaemon.t.a", state: "Empty", members: [] }]);
    expect(t.services.callsOf("busGroups")).toEqual([[{}], [{ stream: "t" }]]);
  });

  it("GET /bus/lag needs topic and agent", async () => {
    const ok = await t.request("GET", "/bus/lag?topic=t&agent=a");
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ group_id: "omnidaemon.t.a", total: 0, partitions: [] });
    const missing = await t.request("GET", "/bus/lag?topic=t");
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({
      code: "invalid_input",
      field: "agent",
      message: "agent: is required",
    });
  });

  it("GET /bus/lag of an unknown agent: 404", async () => {
    expect((await t.request("GET", "/bus/lag?topic=t&agent=nope")).status).toBe(404);
  });

  it("GET /bus/dlq passes limit (default 100) and the filter in the bus's terms", async () => {
    await t.request("GET", "/bus/dlq?topic=t&agent=a");
    await t.request("GET", "/bus/dlq?topic=t&agent=a&limit=5&error_class=TypeError&reason=retries_exhausted");
    expect(t.services.callsOf("dlqList")).toEqual([
      ["t", "a", { limit: 100 }],
      ["t", "a", { limit: 5, filter: { errorClass: "TypeError", reason: "retries_exhausted" } }],
    ]);
  });

  it("GET /bus/dlq/summary answers the agent's DLQ counts; an unknown agent is 404, a missing agent 400", async () => {
    const ok = await t.request("GET", "/bus/dlq/summary?topic=t&agent=a");
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ topic: "t", agent: "a", entries: 3, replayed: 1 });
    expect(t.services.callsOf("dlqSummary")).toEqual([["t", "a"]]);
    expect((await t.request("GET", "/bus/dlq/summary?topic=t&agent=nope")).status).toBe(404);
    const missing = await t.request("GET", "/bus/dlq/summary?topic=t");
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe("agent");
  });

  it("GET /bus/dlq?limit=abc: 400 naming limit", async () => {
    const response = await t.request("GET", "/bus/dlq?topic=t&agent=a&limit=abc");
    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe("limit");
  });

  it("POST /bus/dlq/replay by ids, as a dry run, with the actor", async () => {
    const response = await t.request("POST", "/bus/dlq/replay", {
      json: { topic: "t", agent: "a", ids: ["x", "y"], dry_run: true },
      headers: { "x-omnidaemon-actor": "cli:ops" },
    });
    expect(response.status).toBe(200);
    expect(t.services.callsOf("dlqReplay")).toEqual([
      ["t", "a", { ids: ["x", "y"], dryRun: true, force: false }, { name: "cli:ops" }],
    ]);
  });

  it("POST /bus/dlq/replay by offsets, by filter (ISO or epoch times), or all", async () => {
    await t.request("POST", "/bus/dlq/replay", {
      json: {
        topic: "t",
        agent: "a",
        offsets: [
          { partition: 0, offset: "12" },
          { partition: 1, offset: 3 },
        ],
      },
    });
    await t.request("POST", "/bus/dlq/replay", {
      json: {
        topic: "t",
        agent: "a",
        filter: {
          error_class: "TypeError",
          since: "2026-01-01T00:00:00Z",
          until: 1767312000000,
          task_ids: ["k"],
        },
        force: true,
      },
    });
    await t.request("POST", "/bus/dlq/replay", { json: { topic: "t", agent: "a", all: true } });
    expect(t.services.callsOf("dlqReplay").map((args) => args[2])).toEqual([
      {
        offsets: [
          { partition: 0, offset: "12" },
          { partition: 1, offset: 3 },
        ],
        dryRun: false,
        force: false,
      },
      {
        filter: { errorClass: "TypeError", since: 1767225600000, until: 1767312000000, taskIds: ["k"] },
        dryRun: false,
        force: true,
      },
      { all: true, dryRun: false, force: false },
    ]);
  });

  it.each([
    [
      { topic: "t", agent: "a" },
      "all",
      "all: a replay needs exactly one of all: true, ids, offsets or filter",
    ],
    [{ topic: "t", agent: "a", all: false }, "all", undefined],
    [
      { topic: "t", agent: "a", all: true, ids: ["x"] },
      "ids",
      "ids: give exactly one of all, ids, offsets or filter; got all and ids",
    ],
    [{ topic: "t", agent: "a", ids: [] }, "ids", undefined],
    [
      { topic: "t", agent: "a", filter: {} },
      "filter",
      "filter: is empty; to replay everything send all: true",
    ],
    [
      { topic: "t", agent: "a", filter: { error_type: "X" } },
      "filter",
      "filter: unknown field(s) error_type",
    ],
    [{ topic: "t", agent: "a", all: true, dryrun: true }, "body", "body: unknown field(s) dryrun"],
    [{ topic: "t", agent: "a", offsets: [{ partition: -1, offset: 1 }] }, "offsets.0.partition", undefined],
    [{ topic: "t", agent: "a", offsets: [{ partition: 0, offset: "x" }] }, "offsets.0.offset", undefined],
    [
      { topic: "t", agent: "a", filter: { since: "yesterday" } },
      "filter.since",
      "filter.since: expected epoch milliseconds or an ISO 8601 date-time",
    ],
    [{ agent: "a", all: true }, "topic", "topic: is required"],
  ])("POST /bus/dlq/replay %j: 400 naming %s", async (body, field, message) => {
    const response = await t.request("POST", "/bus/dlq/replay", { json: body });
    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe(field);
    if (message !== undefined) expect(response.body.error.message).toBe(message);
    expect(t.services.callsOf("dlqReplay")).toEqual([]);
  });

  it("POST /bus/dlq/purge", async () => {
    const response = await t.request("POST", "/bus/dlq/purge", { json: { topic: "t", agent: "a" } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ deleted: 3 });
    expect(t.services.callsOf("dlqPurge")).toEqual([["t", "a", { name: "api" }]]);
  });

  it("POST /bus/dlq/purge without agent: 400", async () => {
    const response = await t.request("POST", "/bus/dlq/purge", { json: { topic: "t" } });
    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe("agent");
  });
});
