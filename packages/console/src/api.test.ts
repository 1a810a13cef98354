import { CoordinatorApiError } from "@omnidaemon/protocol";
import { CONSOLE_ACTOR, consoleClient, failureOf, isUnauthorized, isUnreachable, replayRequest } from "./api";

const ORIGIN = "http://127.0.0.1:8765";

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  cache: RequestCache | undefined;
  credentials: RequestCredentials | undefined;
}

/** Replaces fetch with one answering `status` and `body` to every request, and records what was sent. */
function answer(status: number, body: unknown): Sent[] {
  const sent: Sent[] = [];
  globalThis.fetch = (async (url: string, init: RequestInit) => {
    sent.push({
      url,
      method: init.method ?? "GET",
      headers: init.headers as Record<string, string>,
      body: init.body === undefined ? undefined : JSON.parse(init.body as string),
      cache: init.cache,
      credentials: init.credentials,
    });
    return new Response(body === undefined ? "" : JSON.stringify(body), { status });
  }) as typeof fetch;
  return sent;
}

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

describe("the console's coordinator client (the protocol's, set up for a browser)", () => {
  it("sends the bearer token and the console as the audit actor; no token, no Authorization header", async () => {
    const sent = answer(200, {});
    await consoleClient("secret-token", ORIGIN).listAgents();
    await consoleClient(undefined, ORIGIN).listAgents();
    expect(sent[0]?.headers).toMatchObject({
      authorization: "Bearer secret-token",
      "x-omnidaemon-actor": CONSOLE_ACTOR,
    });
    expect(sent[1]?.headers.authorization).toBeUndefined();
  });

  it("never answers from the HTTP cache and never sends cookies", async () => {
    const sent = answer(200, []);
    await consoleClient("t", ORIGIN).listWorkers();
    expect(sent[0]).toMatchObject({ cache: "no-store", credentials: "omit" });
  });

  it("encodes path segments and query parameters, leaving undefined ones out", async () => {
    const sent = answer(200, []);
    const api = consoleClient(undefined, ORIGIN);
    await api.getAgent("a/b", "n?x");
    await api.listTasks({ correlation_id: "conv 1&2", limit: 5 });
    await api.deleteAgent("t", "a", { deleteGroup: true, deleteDlq: false });
    await api.dlqSummary({ topic: "t", agent: "a" });
    await api.metricsHistory({ topic: "t", agent: "a" });
    expect(sent.map((s) => `${s.method} ${s.url}`)).toEqual([
      `GET ${ORIGIN}/agents/a%2Fb/n%3Fx`,
      `GET ${ORIGIN}/tasks?correlation_id=conv+1%262&limit=5`,
      `DELETE ${ORIGIN}/agents/t/a?delete_group=true&delete_dlq=false`,
      `GET ${ORIGIN}/bus/dlq/summary?topic=t&agent=a`,
      `GET ${ORIGIN}/metrics/history?topic=t&agent=a`,
    ]);
  });

  it("sends a replay with exactly its selector and the dry-run flag the API expects", async () => {
    const sent = answer(200, { dry_run: true });
    const api = consoleClient(undefined, ORIGIN);
    await api.dlqReplay(
      replayRequest("t", "a", { offsets: [{ partition: 1, offset: "7" }] }, { dryRun: true }),
    );
    await api.dlqReplay(replayRequest("t", "a", { all: true }, { dryRun: false, force: true }));
    expect(sent.map((s) => s.body)).toEqual([
      { topic: "t", agent: "a", offsets: [{ partition: 1, offset: "7" }], dry_run: true },
      { topic: "t", agent: "a", all: true, dry_run: false, force: true },
    ]);
  });

  it("turns an error answer into the protocol's CoordinatorApiError with the API's message and field", async () => {
    answer(400, { error: { code: "invalid_input", message: "limit: expected an integer", field: "limit" } });
    const error = await consoleClient(undefined, ORIGIN)
      .auditLog({ limit: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoordinatorApiError);
    expect(error).toMatchObject({ status: 400, details: { code: "invalid_input", field: "limit" } });
    expect(failureOf(error)).toEqual({ message: "limit: expected an integer", status: 400 });
    expect(isUnauthorized(error)).toBe(false);
  });

  it("tells a refused token (401) from other errors", async () => {
    answer(401, { error: { code: "unauthorized", message: "missing or invalid bearer token" } });
    const error = await consoleClient("old", ORIGIN)
      .listAgents()
      .catch((e: unknown) => e);
    expect(isUnauthorized(error)).toBe(true);
    expect(isUnreachable(error)).toBe(false);
  });

  it("reads the health report from a 503 (the fleet is down), but not a 503 error body", async () => {
    answer(503, { status: "down", kafka: { ok: false, error: "refused" }, agents: [] });
    expect(await consoleClient(undefined, ORIGIN).healthReport()).toMatchObject({ status: "down" });
    answer(503, { error: { code: "unavailable", message: "the coordinator is shutting down" } });
    const error = await consoleClient(undefined, ORIGIN)
      .healthReport()
      .catch((e: unknown) => e);
    expect(failureOf(error)).toEqual({ message: "the coordinator is shutting down", status: 503 });
  });

  it("reports an unreachable coordinator without an HTTP status", async () => {
    globalThis.fetch = (async () => {
      throw new TypeError("Failed to fetch");
    }) as typeof fetch;
    const error = await consoleClient(undefined, ORIGIN)
      .listAgents()
      .catch((e: unknown) => e);
    expect(isUnreachable(error)).toBe(true);
    expect(failureOf(error)).toEqual({
      message: `cannot reach the coordinator at ${ORIGIN}: Failed to fetch`,
      status: undefined,
    });
  });

  it("shows any other error by its message", () => {
    expect(failureOf(new RangeError("bad"))).toEqual({ message: "bad", status: undefined });
    expect(failureOf("text")).toEqual({ message: "text", status: undefined });
  });
});
