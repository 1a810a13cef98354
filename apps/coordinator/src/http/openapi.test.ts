import type { FastifyInstance } from "fastify";
import { CONSOLE_PREFIX } from "./console";
import { openApiPath } from "./openapi";
import { startTestApp, type TestApp } from "./testing/test-app";

/** Every (method, url) fastify serves, read from its route tree (fastify has no other public listing). */
function servedRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
    const match = /^(.*?)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (match === null) continue;
    const depth = [...(match[1] ?? "")].length / 4;
    stack.length = depth;
    stack.push(match[2] ?? "");
    for (const method of (match[3] ?? "").split(", ").filter((m) => m !== "" && m !== "HEAD")) {
      routes.push(`${method} ${stack.join("")}`);
    }
  }
  return routes.sort();
}

describe("GET /openapi.json", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it("is an OpenAPI 3.1 document", async () => {
    const response = await t.request("GET", "/openapi.json");
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      openapi: "3.1.0",
      info: { title: expect.any(String), version: expect.any(String) },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    });
  });

  it("documents every API route the server serves, and nothing else (the console's static files are not API)", async () => {
    const { body } = await t.request("GET", "/openapi.json");
    const documented = Object.entries(body.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    const isConsole = (route: string): boolean => route.startsWith(`GET ${CONSOLE_PREFIX}`);
    const served = servedRoutes(t.app)
      .filter((route) => !isConsole(route))
      .map((route) => {
        const [method, url] = route.split(" ");
        return `${method} ${openApiPath(url ?? "")}`;
      });
    // /ui and /ui/* (printed as /ui*, the trailing slash being ignored).
    expect(servedRoutes(t.app).filter(isConsole)).toHaveLength(2);
    // The table of docs/control-plane.md, plus GET /audit, GET /v1/workers, /metrics/history, /bus/dlq/summary.
    expect(served).toHaveLength(33);
    expect(documented).toEqual(served);
  });

  it("documents inputs from the validating schemas: path, query, body", async () => {
    const { body } = await t.request("GET", "/openapi.json");
    const getAgent = body.paths["/agents/{topic}/{name}"].get;
    expect(getAgent.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
      "path:topic",
      "path:name",
    ]);
    const listTasks = body.paths["/tasks"].get;
    expect(listTasks.parameters).toContainEqual(
      expect.objectContaining({ name: "limit", in: "query", required: false }),
    );
    const publish = body.paths["/tasks"].post;
    expect(publish.requestBody.content["application/json"].schema).toMatchObject({
      type: "object",
      required: ["topic"],
      properties: { topic: expect.any(Object), payload: expect.any(Object) },
    });
    expect(publish.responses["400"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/Error",
    });
  });

  it("marks the open routes as needing no token", async () => {
    const { body } = await t.request("GET", "/openapi.json");
    for (const path of ["/health", "/livez", "/readyz", "/metrics", "/openapi.json"]) {
      expect(body.paths[path].get.security).toEqual([]);
    }
    expect(body.paths["/agents"].get.security).toBeUndefined();
    expect(body.paths["/agents"].get.responses["401"]).toBeDefined();
  });

  // Issue 10, item 4: the fuzzer found schema-valid requests the validators refused; the document now states
  // the validators' limits. These are the ones it tripped on.
  it("states the limits the validators enforce", async () => {
    const document = (await t.request("GET", "/openapi.json")).body;
    const param = (path: string, method: string, name: string) =>
      document.paths[path][method].parameters.find((p: { name: string }) => p.name === name).schema;
    const topic = param("/agents/{topic}/{name}", "get", "topic");
    expect(topic).toEqual(expect.objectContaining({ minLength: 1, maxLength: 249 }));
    expect(new RegExp(topic.pattern).test("__consumer_offsets")).toBe(false);
    expect(new RegExp(topic.pattern).test("omnidaemon_control")).toBe(false);
    expect(new RegExp(topic.pattern).test("file.uploaded")).toBe(true);
    const limit = new RegExp(param("/tasks", "get", "limit").pattern);
    expect(["0", "1", "1000", "1001", "01"].map((v) => limit.test(v))).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
    expect(param("/agents", "delete", "confirm")).toEqual(expect.objectContaining({ const: "true" }));

    const register = document.paths["/agents"].post.requestBody.content["application/json"].schema;
    expect(register.properties.topic.maxLength + register.properties.name.maxLength).toBe(249 - 18);
    expect(register.properties.config).toEqual(expect.objectContaining({ additionalProperties: false }));
    expect(register.properties.description.pattern).toBeDefined();
    const workers = document.paths["/v1/workers"].post.requestBody.content["application/json"].schema;
    expect(workers.properties.pid.maximum).toBe(2_147_483_647);
    const publish = document.paths["/tasks"].post.requestBody.content["application/json"].schema;
    expect(publish.oneOf).toEqual([{ required: ["content"] }, { required: ["payload"] }]);
    expect(publish.properties.content).toEqual(
      expect.objectContaining({ $ref: "#/components/schemas/JsonValue" }),
    );
    expect(publish.propertyNames).toEqual({ not: { const: "__proto__" } });
  });
});
