import {
  EnvConfigError,
  envBoolean,
  envFileContent,
  envIssues,
  envRequired,
  envText,
  secretOf,
  shown,
  type Env,
} from "@omnidaemon/lifecycle";
import { z } from "zod";
import { SSL_MODES } from "./connection";

/**
 * The one parser of the `OMNIDAEMON_DATABASE_*` variables (docs/configuration.md): the URL (TLS by its `sslmode`),
 * the CA file, the password from a file, the schema. Files are read when the environment is parsed, in `main`.
 */

/** What a {@link PgStore} or `migrateDatabase` needs from the environment (spread into their options). */
export interface DatabaseSettings {
  /** `postgres://user[:password]@host:port/db[?sslmode=…]`. Holds a secret when it holds a password. */
  url: string;
  schema: string;
  /** PEM CA bundle for sslmode=verify-ca|verify-full. */
  sslCa?: string;
  /** Secret. */
  password?: string;
}

const databaseEnvSchema = z
  .object({
    OMNIDAEMON_DATABASE_URL: envRequired("postgres://user:password@host:5432/database").transform(
      (value, ctx) => {
        let url: URL | undefined;
        try {
          url = new URL(value);
        } catch {
          url = undefined;
        }
        if (url === undefined || (url.protocol !== "postgres:" && url.protocol !== "postgresql:")) {
          // The value may hold a password: never echo it.
          ctx.addIssue({
            code: "custom",
            message: "expected a postgres:// or postgresql:// URL (value not shown: it may hold a password)",
          });
          return z.NEVER;
        }
        const mode = url.searchParams.get("sslmode");
        if (mode !== null && !(SSL_MODES as readonly string[]).includes(mode)) {
          ctx.addIssue({
            code: "custom",
            message: `sslmode must be one of ${SSL_MODES.join(", ")}, got ${shown(mode)}`,
          });
        }
        if (url.searchParams.has("sslrootcert")) {
          ctx.addIssue({
            code: "custom",
            message:
              "sslrootcert is not read from the URL: give the CA file in OMNIDAEMON_DATABASE_SSL_CA_FILE",
          });
        }
        return { raw: value, hasPassword: url.password !== "", hasSslMode: mode !== null };
      },
    ),
    OMNIDAEMON_DATABASE_SCHEMA: envText().transform((value, ctx) => {
      if (value === undefined) return "public";
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) {
        ctx.addIssue({
          code: "custom",
          message: `expected a lowercase identifier (letters, digits, _; at most 63), got ${shown(value)}`,
        });
        return z.NEVER;
      }
      return value;
    }),
    OMNIDAEMON_DATABASE_SSL_CA_FILE: envFileContent(),
    OMNIDAEMON_DATABASE_PASSWORD_FILE: envFileContent(),
    /** Older switch: true means sslmode=require when the URL names no sslmode. @default false */
    OMNIDAEMON_DATABASE_SSL: envBoolean(false),
  })
  .transform((env, ctx): DatabaseSettings => {
    const password = secretOf(env, "OMNIDAEMON_DATABASE_PASSWORD", ctx);
    if (password !== undefined && env.OMNIDAEMON_DATABASE_URL.hasPassword) {
      ctx.addIssue({
        code: "custom",
        path: ["OMNIDAEMON_DATABASE_PASSWORD_FILE"],
        message: "the URL in OMNIDAEMON_DATABASE_URL holds a password too; give it once",
      });
    }
    let url = env.OMNIDAEMON_DATABASE_URL.raw;
    if (env.OMNIDAEMON_DATABASE_SSL && !env.OMNIDAEMON_DATABASE_URL.hasSslMode) {
      const parsed = new URL(url);
      parsed.searchParams.set("sslmode", "require");
      url = parsed.toString();
    }
    const ca = env.OMNIDAEMON_DATABASE_SSL_CA_FILE?.content;
    return {
      url,
      schema: env.OMNIDAEMON_DATABASE_SCHEMA,
      ...(ca === undefined ? {} : { sslCa: ca }),
      ...(password === undefined ? {} : { password }),
    };
  });

/** The database settings, or one issue line per bad variable (each starting with its name). */
export function safeLoadDatabaseEnv(
  env: Env,
): { ok: true; settings: DatabaseSettings } | { ok: false; issues: string[] } {
  const result = databaseEnvSchema.safeParse(env);
  return result.success
    ? { ok: true, settings: result.data }
    : { ok: false, issues: envIssues(result.error) };
}

/** Parses `OMNIDAEMON_DATABASE_*`; throws an {@link EnvConfigError} naming every bad variable. */
export function loadDatabaseEnv(env: Env): DatabaseSettings {
  const result = safeLoadDatabaseEnv(env);
  if (result.ok) return result.settings;
  throw new EnvConfigError(result.issues, "database configuration");
}
