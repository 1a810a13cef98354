// Shared by the store-pg integration suites: every suite works in a Postgres schema of its own and drops it.
import net from "node:net";
import { Client } from "pg";
import pino, { type Logger } from "pino";
import { databaseUrl, uniqueName } from "../../../test/helpers";
import { PgStore, type PgStoreOptions } from "../src";

export { databaseUrl, uniqueName };

/** A fresh schema name for one suite or test (nothing is created until a store migrates into it). */
export function newSchema(prefix: string): string {
  return uniqueName(`storepg_${prefix}`);
}

/** Runs `work` on a short-lived admin connection (no search_path: qualify names with the schema). */
export async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await withAdmin((client) => client.query(`drop schema if exists "${schema}" cascade`));
}

/** A started store on `schema` (migrated); the caller stops it. */
export async function startStore(schema: string, options: Partial<PgStoreOptions> = {}): Promise<PgStore> {
  const store = new PgStore({ databaseUrl: databaseUrl(), schema, ...options });
  await store.start();
  return store;
}

/** Connections open right now with this `application_name`. */
export async function connectionsNamed(applicationName: string): Promise<number> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where application_name = $1",
      [applicationName],
    );
    return rows[0]?.n ?? 0;
  });
}

/** TCP sockets and servers this process holds, as Node counts them. */
export function openSockets(): number {
  return process
    .getActiveResourcesInfo()
    .filter((name) => name === "TCPSocketWrap" || name === "TCPServerWrap" || name === "TCPWrap").length;
}

export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A pino logger that keeps its lines, to assert on what the store logged. */
export function memoryLogger(): { logger: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** A port nothing listens on: bound once by the OS, then released. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
