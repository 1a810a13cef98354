// Proves the integration services themselves: the database the global setup resolved answers queries and lets a
// test work in a schema of its own, then drop it.
import { Client } from "pg";
import { databaseUrl, uniqueName } from "@omnidaemon/testkit";

describe("Postgres (integration services)", () => {
  it("runs queries in a schema of its own and drops it", async () => {
    const schema = uniqueName("infra_pg");
    const client = new Client({ connectionString: databaseUrl() });
    await client.connect();
    try {
      const { rows: versionRows } = await client.query<{ version: string }>("select version()");
      expect(versionRows[0]?.version).toMatch(/^PostgreSQL \d+/);

      await client.query(`create schema ${schema}`);
      try {
        await client.query(`create table ${schema}.item (id serial primary key, name text not null)`);
        await client.query(`insert into ${schema}.item (name) values ($1), ($2)`, ["first", "second"]);
        const { rows } = await client.query<{ id: number; name: string }>(
          `select id, name from ${schema}.item order by id`,
        );
        expect(rows).toEqual([
          { id: 1, name: "first" },
          { id: 2, name: "second" },
        ]);
      } finally {
        await client.query(`drop schema ${schema} cascade`);
      }

      const { rows: left } = await client.query<{ n: number }>(
        "select count(*)::int as n from information_schema.schemata where schema_name = $1",
        [schema],
      );
      expect(left).toEqual([{ n: 0 }]);
    } finally {
      await client.end();
    }
  });
});
