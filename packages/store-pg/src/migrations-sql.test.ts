import fs from "node:fs";
import path from "node:path";
import { AGENT_STATES, TASK_STATUSES } from "@omnidaemon/protocol";
import { MIGRATIONS_FOLDER } from "./migrator";

// The store chooses its Postgres schema per connection (search_path), so committed migrations must not name one.
// drizzle-kit writes `"public".` before sequences and foreign keys; `npm run db:generate` strips it.
describe("committed migrations", () => {
  const journal = JSON.parse(
    fs.readFileSync(path.join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8"),
  ) as {
    entries: { tag: string }[];
  };

  it("has one SQL file per journal entry", () => {
    const files = fs.readdirSync(MIGRATIONS_FOLDER).filter((name) => name.endsWith(".sql"));
    expect(files.sort()).toEqual(journal.entries.map((entry) => `${entry.tag}.sql`).sort());
    expect(files.length).toBeGreaterThan(0);
  });

  it("names no schema, so one set of migrations serves any schema", () => {
    for (const entry of journal.entries) {
      const text = fs.readFileSync(path.join(MIGRATIONS_FOLDER, `${entry.tag}.sql`), "utf8");
      expect(text).not.toMatch(/"public"\./);
      expect(text).not.toMatch(/\bpublic\./);
    }
  });

  // The CHECK constraints spell the protocol's vocabulary out in SQL; a status added to the protocol needs a migration.
  it("constrains task statuses and agent states to exactly the protocol's vocabulary", () => {
    const sql = journal.entries
      .map((entry) => fs.readFileSync(path.join(MIGRATIONS_FOLDER, `${entry.tag}.sql`), "utf8"))
      .join("\n");
    const allowed = (constraint: string): string[] => {
      const matches = [
        ...sql.matchAll(new RegExp(`"${constraint}" CHECK \\([^)]* in \\(([^)]*)\\)\\)`, "g")),
      ];
      const last = matches.at(-1)?.[1] ?? "";
      return [...last.matchAll(/'([^']*)'/g)].map((match) => match[1] as string);
    };
    expect(allowed("tasks_status_check")).toEqual([...TASK_STATUSES]);
    expect(allowed("agents_state_check")).toEqual([...AGENT_STATES]);
  });
});
