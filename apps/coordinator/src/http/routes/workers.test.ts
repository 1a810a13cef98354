import { startTestApp, type TestApp } from "../testing/test-app";

const registration = {
  id: "host-a-123-x1y2",
  host: "host-a",
  pid: 123,
  version: "0.1.0",
  agents: [{ topic: "t", name: "a", status: "running", member: true, assigned_partitions: 3, in_flight: 1 }],
};

describe("worker protocol routes", () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(() => t.close());

  it("POST /v1/workers registers and answers the heartbeat interval", async () => {
    const response = await t.request("POST", "/v1/workers", { json: registration });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ heartbeat_interval_ms: 5000 });
    expect(t.services.callsOf("registerWorker")).toEqual([[registration]]);
  });

  it("PUT /v1/workers/:id/heartbeat answers known: true, or known: false for an unknown worker", async () => {
    const unknown = await t.request("PUT", `/v1/workers/${registration.id}/heartbeat`, {
      json: { agents: [] },
    });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ known: false });
    await t.request("POST", "/v1/workers", { json: registration });
    const known = await t.request("PUT", `/v1/workers/${registration.id}/heartbeat`, {
      json: { agents: registration.agents },
    });
    expect(known.body).toEqual({ known: true });
    expect(t.services.callsOf("heartbeat")[1]).toEqual([registration.id, registration.agents]);
  });

  it("DELETE /v1/workers/:id deregisters", async () => {
    await t.request("POST", "/v1/workers", { json: registration });
    const response = await t.request("DELETE", `/v1/workers/${registration.id}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "deregistered", id: registration.id });
    expect(t.services.workers.size).toBe(0);
  });

  it("GET /v1/workers lists the workers", async () => {
    await t.request("POST", "/v1/workers", { json: registration });
    const response = await t.request("GET", "/v1/workers");
    expect(response.status).toBe(200);
    expect(response.body).toEqual([expect.objectContaining({ id: registration.id, live: true })]);
  });

  it.each([
    [{ ...registration, pid: "123" }, "pid"],
    [{ ...registration, id: "has space" }, "id"],
    [{ ...registration, agents: [{ ...registration.agents[0], status: "sleeping" }] }, "agents.0.status"],
    [{ ...registration, agents: [{ ...registration.agents[0], in_flight: -1 }] }, "agents.0.in_flight"],
    [{ ...registration, agents: undefined }, "agents"],
  ])("POST /v1/workers %j: 400 naming %s", async (body, field) => {
    const response = await t.request("POST", "/v1/workers", { json: body });
    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe(field);
  });

  it("PUT heartbeat without agents: 400 naming agents", async () => {
    const response = await t.request("PUT", "/v1/workers/w-1/heartbeat", { json: {} });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code: "invalid_input",
      field: "agents",
      message: "agents: is required",
    });
  });
});
