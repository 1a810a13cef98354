import { parseRoute, routeHref } from "./router";

describe("console routes", () => {
  it("read the page and its parameters from the hash", () => {
    expect(parseRoute("#/agents?topic=file.uploaded&name=file-processor")).toEqual({
      page: "agents",
      params: { topic: "file.uploaded", name: "file-processor" },
    });
    expect(parseRoute("#/dlq")).toEqual({ page: "dlq", params: {} });
  });

  it("open the fleet page for an empty or unknown hash", () => {
    expect(parseRoute("")).toEqual({ page: "fleet", params: {} });
    expect(parseRoute("#/nope?x=1")).toEqual({ page: "fleet", params: { x: "1" } });
  });

  it("leave empty parameters out, both ways, and survive characters that need encoding", () => {
    const href = routeHref("tasks", { correlation_id: "conv a&b", id: "", status: undefined });
    expect(href).toBe("#/tasks?correlation_id=conv+a%26b");
    expect(parseRoute(href)).toEqual({ page: "tasks", params: { correlation_id: "conv a&b" } });
    expect(routeHref("fleet")).toBe("#/fleet");
    expect(parseRoute("#/audit?topic=")).toEqual({ page: "audit", params: {} });
  });
});
