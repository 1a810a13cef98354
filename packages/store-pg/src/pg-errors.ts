import { isUntrustedCertificateCode } from "@omnidaemon/lifecycle";
import { StoreError, type StoreErrorCode } from "./errors";

// Socket-level failures Node reports while connecting or talking to Postgres.
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

// pg raises these without any code, so their text is the only signal there is; they all mean the connection
// went away or never came up.
const CONNECTION_MESSAGES = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Query read timeout",
  "Client has encountered a connection error",
  "Client was closed and is not queryable",
];

/** Maps a SQLSTATE to a store code: connection classes and server shutdowns are UNAVAILABLE. */
export function codeForSqlState(sqlState: string): StoreErrorCode {
  if (sqlState.startsWith("08")) return "UNAVAILABLE"; // connection exception
  switch (sqlState) {
    case "57P01": // admin_shutdown
    case "57P02": // crash_shutdown
    case "57P03": // cannot_connect_now (starting up, recovering)
    case "53300": // too_many_connections
      return "UNAVAILABLE";
    case "57014": // query_canceled, which is how statement_timeout ends a statement
    case "55P03": // lock_not_available (lock_timeout)
      return "TIMEOUT";
    case "28000": // invalid_authorization_specification
    case "28P01": // invalid_password
    case "3D000": // invalid_catalog_name: the database in the URL does not exist
      return "INVALID_CONFIG";
    case "40001": // serialization_failure
    case "40P01": // deadlock_detected
      return "CONFLICT";
    default:
      return "QUERY_FAILED";
  }
}

function isSqlState(value: unknown): value is string {
  return typeof value === "string" && /^[0-9A-Z]{5}$/.test(value);
}

/** Postgres error (or the one drizzle wrapped) → StoreError with a code and retry verdict. */
export function toStoreError(error: unknown, operation: string): StoreError {
  if (error instanceof StoreError) return error;
  // drizzle wraps driver errors in DrizzleQueryError, with the pg error as `cause`.
  const inner = findDriverError(error);
  const code = (inner as { code?: unknown } | undefined)?.code;
  const message = inner instanceof Error ? inner.message : String(inner);
  if (typeof code === "string" && NETWORK_CODES.has(code)) {
    return new StoreError("UNAVAILABLE", `${operation}: Postgres is unreachable (${message})`, {
      cause: error,
    });
  }
  if (isSqlState(code)) {
    const storeCode = codeForSqlState(code);
    const prefix = storeCode === "UNAVAILABLE" ? `${operation}: Postgres is unavailable` : operation;
    return new StoreError(storeCode, `${prefix} (${code}: ${message})`, {
      cause: error,
      sqlState: code,
      ...(storeCode === "INVALID_CONFIG" ? { field: "databaseUrl" } : {}),
    });
  }
  if (CONNECTION_MESSAGES.some((text) => message.includes(text))) {
    return new StoreError("UNAVAILABLE", `${operation}: Postgres connection lost (${message})`, {
      cause: error,
    });
  }
  if (message.includes("Cannot use a pool after calling end")) {
    return new StoreError("STOPPED", `${operation}: the store is stopped`, { cause: error });
  }
  return new StoreError("QUERY_FAILED", `${operation}: ${message}`, { cause: error });
}

function findDriverError(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth += 1) {
    const code = (current as { code?: unknown } | null)?.code;
    if (typeof code === "string") return current;
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (cause === undefined) break;
    current = cause;
  }
  return current;
}

/**
 * A failure to open a connection or to answer a ping: wrong credentials or database name are INVALID_CONFIG (an
 * operator must act); everything else, including TLS and protocol errors, is UNAVAILABLE.
 */
export function connectError(error: unknown, target: string): StoreError {
  const translated = toStoreError(error, `connecting to Postgres at ${target}`);
  const hint = connectHint(error);
  if (hint === undefined && translated.code !== "QUERY_FAILED" && translated.code !== "TIMEOUT")
    return translated;
  const code =
    translated.code === "QUERY_FAILED" || translated.code === "TIMEOUT" ? "UNAVAILABLE" : translated.code;
  return new StoreError(code, hint === undefined ? translated.message : `${translated.message}: ${hint}`, {
    cause: error,
    ...(translated.field === undefined ? {} : { field: translated.field }),
    ...(translated.sqlState === undefined ? {} : { sqlState: translated.sqlState }),
  });
}

/** The setting an operator must fix for a refused connection, by its variable (docs/configuration.md). */
function connectHint(error: unknown): string | undefined {
  const inner = findDriverError(error);
  const code = (inner as { code?: unknown } | undefined)?.code;
  const message = inner instanceof Error ? inner.message : String(inner);
  if (code === "28P01") {
    return "check the password (OMNIDAEMON_DATABASE_PASSWORD_FILE, or the one in OMNIDAEMON_DATABASE_URL)";
  }
  if (code === "28000" && /no encryption/.test(message)) {
    return "the server requires TLS: set sslmode=verify-full (or require) in OMNIDAEMON_DATABASE_URL";
  }
  if (isUntrustedCertificateCode(code)) {
    return "set OMNIDAEMON_DATABASE_SSL_CA_FILE to the CA that signed the server's certificate";
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return "the server's certificate does not name the host in OMNIDAEMON_DATABASE_URL (or use sslmode=verify-ca)";
  }
  if (/does not support SSL/i.test(message)) {
    return "the server has no TLS: remove sslmode from OMNIDAEMON_DATABASE_URL, or enable ssl on the server";
  }
  return undefined;
}
