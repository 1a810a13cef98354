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
  /** PEM CA bundle for `sslmode=verify-ca|verify-full`. @default the system CAs */
  sslCa?: string | undefined;
  /** The password, when it is not in the URL (e.g. read from a mounted Secret). */
  password?: string | undefined;
}

/** libpq's sslmode values. `allow` and `prefer` connect without TLS here: pg has no opportunistic TLS. */
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

// Query parameters pg itself would read as TLS settings, letting them win over `ssl` (and reading files).
const TLS_PARAMETERS = [
  "sslmode",
  "ssl",
  "sslrootcert",
  "sslcert",
  "sslkey",
  "sslpassword",
  "uselibpqcompat",
];

/** The URL's sslmode; INVALID_CONFIG naming it when it is not one of {@link SSL_MODES}. */
export function sslModeOf(databaseUrl: string): SslMode {
  const raw = new URL(databaseUrl).searchParams.get("sslmode") ?? "disable";
  const mode = SSL_MODES.find((candidate) => candidate === raw);
  if (mode === undefined) {
    throw new StoreError(
      "INVALID_CONFIG",
      `sslmode must be one of ${SSL_MODES.join(", ")}, got ${JSON.stringify(raw)}`,
      { field: "databaseUrl" },
    );
  }
  return mode;
}

/** pg's `ssl` option for an sslmode, as libpq means it. */
function tlsOptions(mode: SslMode, ca: string | undefined): ClientConfig["ssl"] {
  switch (mode) {
    case "disable":
    case "allow":
    case "prefer":
      return false;
    case "require":
      return { rejectUnauthorized: false };
    case "verify-ca":
      // The chain is checked against the CA; the host name is not (that is verify-full).
      return {
        ...(ca === undefined ? {} : { ca }),
        rejectUnauthorized: true,
        checkServerIdentity: () => undefined,
      };
    case "verify-full":
      return { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: true };
  }
}

/**
 * pg client settings shared by the pool and the migration client. The schema is set with the startup parameter
 * `options=-c search_path=<schema>`, so every connection the pool opens (also after Postgres restarts) starts in it,
 * with no per-connection SET that could race with the first query. Connection poolers in transaction mode
 * (PgBouncer) drop startup options; point the store at Postgres or a session-mode pooler.
 */
export function clientConfig(settings: ConnectionSettings): ClientConfig {
  const url = new URL(settings.databaseUrl);
  const mode = sslModeOf(settings.databaseUrl);
  for (const name of TLS_PARAMETERS) url.searchParams.delete(name);
  // pg reads the password from the connection string over `password`, so a separate one goes into the URL.
  if (settings.password !== undefined) url.password = encodeURIComponent(settings.password);
  return {
    connectionString: url.toString(),
    ssl: tlsOptions(mode, settings.sslCa),
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
  sslModeOf(databaseUrl);
  return databaseUrl;
}
