// Runs after `drizzle-kit generate` (npm run db:generate). drizzle-kit writes `"public".` before sequences, enums
// and foreign-key targets; the store picks its Postgres schema per connection (search_path), so committed SQL must
// name no schema. This strips the qualifier from every migration; src/migrations-sql.test.ts checks it stays so.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const folder = path.join(__dirname, "..", "drizzle");
for (const file of fs.readdirSync(folder).filter((name) => name.endsWith(".sql"))) {
  const full = path.join(folder, file);
  const before = fs.readFileSync(full, "utf8");
  const after = before.replaceAll('"public".', "");
  if (after !== before) {
    fs.writeFileSync(full, after);
    process.stdout.write(`schema-neutral-sql: removed "public". from ${file}\n`);
  }
}
