// store-pg's own helpers for its integration suites, on top of @omnidaemon/testkit: every suite works in a Postgres
// schema of its own (made by migrating a store into it) and drops it.
import { databaseUrl, uniqueName } from "@omnidaemon/testkit";
import { PgStore, type PgStoreOptions } from "../src";

/** A fresh schema name for one suite or test (nothing is created until a store migrates into it). */
export function newSchema(prefix: string): string {
  return uniqueName(`storepg_${prefix}`);
}

/** A started store on `schema` (migrated); the caller stops it. */
export async function startStore(schema: string, options: Partial<PgStoreOptions> = {}): Promise<PgStore> {
  const store = new PgStore({ databaseUrl: databaseUrl(), schema, ...options });
  await store.start();
  return store;
}
