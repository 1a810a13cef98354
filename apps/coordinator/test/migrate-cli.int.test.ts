// `omnidaemon coordinator migrate` through the real, built binary (npm test builds before the integration tests).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { Client } from "pg";
import { databaseUrl, kafkaBrokers, uniqueName } from "@omnidaemon/testkit";

const bin = join(__dirname, "..", "..", "..", "packages", "cli", "dist", "bin.js");

function omnidaemon(args: string[], env: Record<string, string>): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("omnidaemon coordinator migrate", () => {
  it("applies the migrations into the configured schema and exits 0; a second run is harmless", async () => {
    const schema = uniqueName("migrate_cli");
    const env = {
      OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
      OMNIDAEMON_DATABASE_URL: databaseUrl(),
      OMNIDAEMON_DATABASE_SCHEMA: schema,
    };
    const client = new Client({ connectionString: databaseUrl() });
    await client.connect();
    try {
      expect(omnidaemon(["coordinator", "migrate"], env)).toMatchObject({ status: 0 });
      expect(omnidaemon(["coordinator", "migrate"], env)).toMatchObject({ status: 0 });
      const { rows } = await client.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = $1 order by table_name",
        [schema],
      );
      expect(rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(["agent_counters", "agents", "audit_log", "tasks", "workers"]),
      );
    } finally {
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    }
  });

  it("exits 2 naming the variable when the configuration is invalid", () => {
    const result = omnidaemon(["coordinator", "migrate"], { OMNIDAEMON_KAFKA_BROKERS: "127.0.0.1:1" });
    expect(result.status).toBe(2);
    expect(result.output).toMatch(/OMNIDAEMON_DATABASE_URL/);
  });

  it("refuses an unknown command with exit 2 and the usage", () => {
    const result = omnidaemon(["coordinatr"], {});
    expect(result.status).toBe(2);
    expect(result.output).toMatch(/unknown command "coordinatr"[\s\S]*usage: omnidaemon/);
  });
});
