import type { ClientConfig } from "pg";
import { StoreError } from "./errors";

/** The schema every table lives in unless told otherwise. */
export const DEFAULT_SCHEMA = "public";

// Unquoted-identifier rules, so the name is safe in `-c search_path=…`, in SQL and in an advisory-lock key.
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws INVALID_CONFIG unless `schema` is a plain lowercase Postgres identifier. */
export function validateSchema(schema: string): string {
  if (!SCHEMA_PATTERN.test(schema)) {
    throw new StoreError(
      "INVALID_CONFIG",
      `schema must be a lowercase Postgres identifier (a-z, 0-9, _; at most 63 characters, not starting with a ` +
        `digit), got ${JSON.stringify(schema)}`,
      { field: "schema" },
    );
  }
  return schema;
}

export function validateTimeoutMs(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new StoreError(
      "INVALID_CONFIG",
      `${field} must be an integer number of milliseconds ≥ 1, got ${value}`,
      {
        field,
      },
    );
  }
  return value;
}

export interface ConnectionSettings {
  databaseUrl: string;
  schema: string;
  connectTimeoutMs: number;
  statementTimeoutMs: number | undefined;
  applicationName: string;
}

/**
 * pg client settings shared by the pool and the migration client. The schema is set with the startup parameter
 * `options=-c search_path=<schema>`, so every connection the pool opens (also after Postgres restarts) starts in it,
 * with no per-connection SET that could race with the first query. Connection poolers in transaction mode
 * (PgBouncer) drop startup options; point the store at Postgres or a session-mode pooler.
 */
export function clientConfig(settings: ConnectionSettings): ClientConfig {
  return {
    connectionString: settings.databaseUrl,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    options: `-c search_path=${settings.schema}`,
    application_name: settings.applicationName,
    // Lets a half-open connection (server vanished without a FIN) fail instead of hanging until the OS gives up.
    keepAlive: true,
    ...(settings.statementTimeoutMs === undefined ? {} : { statement_timeout: settings.statementTimeoutMs }),
  };
}

/** `host:port/database` of a connection URL, for logs and error messages: never the password. */
export function describeTarget(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    const database = url.pathname.replace(/^\//, "") || "(default database)";
    return `${url.hostname || "(socket)"}:${url.port || "5432"}/${database}`;
  } catch {
    return "(unparsable database URL)";
  }
}

export function validateDatabaseUrl(databaseUrl: unknown): string {
  if (typeof databaseUrl !== "string" || databaseUrl.length === 0) {
    throw new StoreError(
      "INVALID_CONFIG",
      "databaseUrl is required (postgres://user:password@host:port/db)",
      {
        field: "databaseUrl",
      },
    );
  }
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new StoreError("INVALID_CONFIG", "databaseUrl is not a valid URL", { field: "databaseUrl" });
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new StoreError(
      "INVALID_CONFIG",
      `databaseUrl must start with postgres:// or postgresql://, got ${url.protocol}//`,
      { field: "databaseUrl" },
    );
  }
  return databaseUrl;
}
