import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import { StoreError } from "../errors";
import { toStoreError } from "../pg-errors";

export type Db = NodePgDatabase;

/** How a repository reaches the database: `db()` throws NOT_STARTED or STOPPED outside the store's run. */
export interface DbAccess {
  db(): Db;
}

/** Runs one repository operation, turning driver errors into StoreErrors with a code and retry verdict. */
export async function run<T>(access: DbAccess, operation: string, work: (db: Db) => Promise<T>): Promise<T> {
  const db = access.db();
  try {
    return await work(db);
  } catch (error) {
    throw toStoreError(error, operation);
  }
}

export function requireText(field: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new StoreError("INVALID_INPUT", `${field} must be a non-empty string`, { field });
  }
  return value;
}

export function requireCount(field: string, value: unknown, { min = 0 } = {}): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new StoreError("INVALID_INPUT", `${field} must be an integer ≥ ${min}, got ${String(value)}`, {
      field,
    });
  }
  return value;
}

/** `limit` of a list call: 1…1000, default 100. */
export function listLimit(value: number | undefined, fallback = 100): number {
  const limit = value ?? fallback;
  requireCount("limit", limit, { min: 1 });
  return Math.min(limit, 1000);
}

/** `ms` as a Postgres interval expression parameter: `${ms}::double precision * interval '1 millisecond'`. */
export function requireMs(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new StoreError(
      "INVALID_INPUT",
      `${field} must be a number of milliseconds ≥ 0, got ${String(value)}`,
      {
        field,
      },
    );
  }
  return value;
}

/** The row a `returning()` statement must have produced. */
export function expectRow<T>(row: T | undefined): T {
  if (row === undefined) throw new StoreError("QUERY_FAILED", "the statement returned no row");
  return row;
}
