import { ApiError, CONSOLE_ACTOR, CoordinatorApi } from "./api";

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
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
    });
    return new Response(body === undefined ? "" : JSON.stringify(body), { status });
  }) as typeof fetch;
  return sent;
}

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

describe("the console's API client", () => {
  it("sends the bearer token and the console as the audit actor; no token, no Authorization header", async () => {
    const sent = answer(200, {});
    await new CoordinatorApi("secret-token").agents();
    await new CoordinatorApi(undefined).agents();
    expect(sent[0]?.headers).toMatchObject({
      authorization: "Bearer secret-token",
      "x-omnidaemon-actor": CONSOLE_ACTOR,
    });
    expect(sent[1]?.headers.authorization).toBeUndefined();
  });

  it("encodes path segments and query parameters, leaving undefined ones out", async () => {
    const sent = answer(200, []);
    const api = new CoordinatorApi(undefined);
    await api.agent("a/b", "n?x");
    await api.tasks({ correlation_id: "conv 1&2", limit: 5 });
    await api.deleteAgent("t", "a", { deleteGroup: true, deleteDlq: false });
    expect(sent.map((s) => `${s.method} ${s.url}`)).toEqual([
      "GET /agents/a%2Fb/n%3Fx",
      "GET /tasks?correlation_id=conv+1%262&limit=5",
      "DELETE /agents/t/a?delete_group=true&delete_dlq=false",
    ]);
  });

  it("sends a replay with exactly its selector and the dry-run flag the API expects", async () => {
    const sent = answer(200, { dry_run: true });
    await new CoordinatorApi(undefined).replay(
      "t",
      "a",
      { offsets: [{ partition: 1, offset: "7" }] },
      { dryRun: true },
    );
    await new CoordinatorApi(undefined).replay("t", "a", { all: true }, { dryRun: false, force: true });
    expect(sent.map((s) => s.body)).toEqual([
      { topic: "t", agent: "a", offsets: [{ partition: 1, offset: "7" }], dry_run: true },
      { topic: "t", agent: "a", all: true, dry_run: false, force: true },
    ]);
  });

  it("turns an error answer into an ApiError with the API's code, message and field", async () => {
    answer(400, { error: { code: "invalid_input", message: "limit: expected an integer", field: "limit" } });
    const error = await new CoordinatorApi(undefined).audit({ limit: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: "invalid_input", field: "limit" });
    expect((error as ApiError).message).toBe("limit: expected an integer");
  });

  it("reads the health report from a 503 (the fleet is down), but not a 503 error body", async () => {
    answer(503, { status: "down", kafka: { ok: false, error: "refused" } });
    expect(await new CoordinatorApi(undefined).health()).toMatchObject({ status: "down" });
    answer(503, { error: { code: "unavailable", message: "the coordinator is shutting down" } });
    await expect(new CoordinatorApi(undefined).health()).rejects.toMatchObject({
      status: 503,
      code: "unavailable",
    });
  });

  it("reports an unreachable coordinator as status 0", async () => {
    globalThis.fetch = (async () => {
      throw new TypeError("Failed to fetch");
    }) as typeof fetch;
    await expect(new CoordinatorApi(undefined).health()).rejects.toMatchObject({
      status: 0,
      code: "unreachable",
    });
  });
});
