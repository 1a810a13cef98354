// PgStore as a service against the real Postgres: start/stop lifecycle, connections and sockets back to baseline
// after stop, a fast and clean failure when Postgres is not there, a ping that is bounded when Postgres hangs, and a
// pool that survives its connections being cut.
import { PgStore, StoreError } from "../src";
import {
  connectionsNamed,
  databaseUrl,
  dropSchema,
  waitFor,
  freePort,
  memoryLogger,
  openSockets,
  PostgresProxy,
  uniqueName,
} from "@omnidaemon/testkit";
import { newSchema } from "./support";

const schema = newSchema("store");

beforeAll(async () => {
  // Migrate once, so the tests below measure the store rather than the first migration.
  const store = new PgStore({ databaseUrl: databaseUrl(), schema });
  await store.start();
  await store.stop();
});

afterAll(async () => {
  await dropSchema(schema);
});

describe("PgStore lifecycle", () => {
  it("refuses bad options in the constructor, naming the option, without any I/O", () => {
    const cases: Array<[Partial<ConstructorParameters<typeof PgStore>[0]>, string]> = [
      [{ schema: "Bad-Name" }, "schema"],
      [{ poolMax: 0 }, "poolMax"],
      [{ connectTimeoutMs: -1 }, "connectTimeoutMs"],
      [{ databaseUrl: "mysql://x/y" }, "databaseUrl"],
    ];
    for (const [options, field] of cases) {
      expect(() => new PgStore({ databaseUrl: databaseUrl(), ...options })).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG", field }),
      );
    }
  });

  it("can be stopped before it was started, any number of times", async () => {
    const store = new PgStore({ databaseUrl: databaseUrl(), schema });
    await store.stop();
    await store.stop();
    await expect(store.start()).rejects.toMatchObject({ code: "STOPPED" });
  });

  it("rejects repository calls and pings before start and after stop", async () => {
    const store = new PgStore({ databaseUrl: databaseUrl(), schema });
    await expect(store.agents.list()).rejects.toMatchObject({ code: "NOT_STARTED" });
    await expect(store.ping()).rejects.toMatchObject({ code: "NOT_STARTED" });
    await store.start();
    await store.stop();
    await expect(store.agents.list()).rejects.toMatchObject({ code: "STOPPED" });
    await expect(store.ping()).rejects.toMatchObject({ code: "STOPPED" });
  });

  it("closes every connection and socket on stop (open handles back to baseline)", async () => {
    const applicationName = uniqueName("storepg_handles");
    // A socket of an earlier test may still be closing: the baseline is an upper bound.
    const socketsBefore = openSockets();
    const store = new PgStore({ databaseUrl: databaseUrl(), schema, applicationName, poolMax: 4 });
    await store.start();
    // Use several pool connections at once, so there is more than one to close.
    await Promise.all(Array.from({ length: 8 }, () => store.agents.list()));
    expect(await connectionsNamed(applicationName)).toBeGreaterThan(1);
    expect(openSockets()).toBeGreaterThan(socketsBefore);

    await Promise.all([store.stop(), store.stop()]);

    await waitFor(
      "no connection left",
      async () => (await connectionsNamed(applicationName)) === 0,
      5_000,
      50,
    );
    await waitFor("no socket left", () => openSockets() <= socketsBefore, 5_000, 50);
  });

  it("pings with a latency", async () => {
    const store = new PgStore({ databaseUrl: databaseUrl(), schema });
    await store.start();
    try {
      const { latencyMs } = await store.ping();
      expect(latencyMs).toBeGreaterThan(0);
      expect(latencyMs).toBeLessThan(5000);
    } finally {
      await store.stop();
    }
  });

  it("fails start fast with a clear UNAVAILABLE error when nothing listens, and leaves nothing open", async () => {
    const port = await freePort();
    const url = new URL(databaseUrl());
    url.hostname = "127.0.0.1";
    url.port = String(port);
    url.password = "secret-password";
    const socketsBefore = openSockets();
    const store = new PgStore({ databaseUrl: url.toString(), schema, connectTimeoutMs: 2000 });

    const started = Date.now();
    const error = await store.start().catch((e: unknown) => e);
    const elapsedMs = Date.now() - started;

    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "UNAVAILABLE", retriable: true });
    expect((error as StoreError).message).toContain(`127.0.0.1:${port}`);
    expect((error as StoreError).message).toContain("ECONNREFUSED");
    expect((error as StoreError).message).not.toContain("secret-password");
    expect(elapsedMs).toBeLessThan(2000);
    await waitFor("no socket left", () => openSockets() <= socketsBefore, 5_000, 50);
    await expect(store.agents.list()).rejects.toMatchObject({ code: "NOT_STARTED" });
    await store.stop();
  });

  it("fails start within connectTimeoutMs when the server accepts but never answers", async () => {
    const proxy = new PostgresProxy();
    const url = await proxy.listen();
    proxy.mode = "blackhole";
    const store = new PgStore({ databaseUrl: url, schema, connectTimeoutMs: 500 });
    try {
      const started = Date.now();
      await expect(store.start()).rejects.toMatchObject({ code: "UNAVAILABLE" });
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await store.stop();
      await proxy.close();
    }
  });

  it("bounds ping when Postgres hangs, and recovers by itself when it answers again", async () => {
    const proxy = new PostgresProxy();
    const url = await proxy.listen();
    const { logger, lines } = memoryLogger();
    const store = new PgStore({
      databaseUrl: url,
      schema,
      logger,
      connectTimeoutMs: 1000,
      stopTimeoutMs: 3000,
    });
    try {
      await store.start();
      await store.agents.list(); // leaves an idle connection in the pool

      // Postgres "restarts" (every connection reset) and then hangs: idle connections break while nobody uses
      // them, which pg reports as an 'error' event; the store must absorb it.
      proxy.mode = "blackhole";
      proxy.cut();
      await waitFor(
        "the idle-connection failure logged",
        () => lines.some((line) => line.msg.startsWith("idle Postgres connection failed")),
        5_000,
        50,
      );

      const started = Date.now();
      const error = await store.ping(300).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(error).toMatchObject({ code: "UNAVAILABLE", retriable: true });
      await expect(store.agents.list()).rejects.toMatchObject({ code: "UNAVAILABLE", retriable: true });

      proxy.mode = "forward";
      await waitFor(
        "the store to answer again",
        async () =>
          (await store.ping().then(
            () => true,
            () => false,
          )) === true,
        5_000,
        50,
      );
      expect(await store.agents.list()).toEqual(expect.any(Array));
    } finally {
      await store.stop();
      await proxy.close();
    }
  });

  it("bounds stop while a query is stuck, and still closes the rest", async () => {
    const proxy = new PostgresProxy();
    const url = await proxy.listen();
    const store = new PgStore({ databaseUrl: url, schema, stopTimeoutMs: 300, connectTimeoutMs: 2000 });
    await store.start();
    try {
      proxy.mode = "blackhole";
      proxy.cut();
      // A query waiting on a connection that never comes up holds the pool open.
      const stuck = store.agents.list().catch((e: unknown) => e);
      const started = Date.now();
      await store.stop();
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await stuck).toBeInstanceOf(StoreError);
    } finally {
      await proxy.close();
    }
  });
});
