import { readFileSync } from "node:fs";
import { z } from "zod";
import { MAX_TIMER_MS } from "./deadline";

/**
 * Building blocks of every app's configuration schema: `OMNIDAEMON_*` environment variables parsed by zod, with
 * messages that read well after the variable's name (`OMNIDAEMON_API_PORT: expected an integer 1-65535, got "x"`).
 * Nothing here reads `process.env`: the env is injected. Empty values count as unset, so `NAME=` in a compose file
 * means "not set", not "empty".
 */

/** An injected environment (`process.env` in `main`, a literal in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Thrown when an environment does not parse; `issues` holds one line per bad variable, each starting with its name. */
export class EnvConfigError extends Error {
  override readonly name: string = "EnvConfigError";

  constructor(
    readonly issues: readonly string[],
    what = "configuration",
  ) {
    super(`invalid ${what}:\n  ${issues.join("\n  ")}`);
  }
}

/** A value for an error message: quoted, cut at 80 characters. Never use it for a secret. */
export const shown = (raw: string): string => JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);

/** A variable as a trimmed string, with "" meaning unset. */
export const envText = () =>
  z
    .string()
    .optional()
    .transform((raw) => {
      const value = raw?.trim();
      return value === undefined || value === "" ? undefined : value;
    });

export const envRequired = (what: string) =>
  envText().transform((value, ctx) => {
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message: `is required (${what})` });
      return z.NEVER;
    }
    return value;
  });

export const envInteger = (min: number, max: number, fallback: number) =>
  envText().transform((value, ctx) => {
    if (value === undefined) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      ctx.addIssue({ code: "custom", message: `expected an integer ${min}-${max}, got ${shown(value)}` });
      return z.NEVER;
    }
    return parsed;
  });

export const envMilliseconds = (fallback: number, min = 1) => envInteger(min, MAX_TIMER_MS, fallback);

/** true/1/yes/on or false/0/no/off, any case; unset gives `fallback`. */
export const envBoolean = <F extends boolean | undefined>(fallback: F) =>
  envText().transform((value, ctx): boolean | F => {
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (["true", "1", "yes", "on"].includes(lower)) return true;
    if (["false", "0", "no", "off"].includes(lower)) return false;
    ctx.addIssue({ code: "custom", message: `expected true or false, got ${shown(value)}` });
    return z.NEVER;
  });

/** One of `values`, any case; unset gives `fallback`. */
export const envOneOf = <T extends string, F extends T | undefined = undefined>(
  values: readonly T[],
  fallback?: F,
) =>
  envText().transform((value, ctx): T | F => {
    if (value === undefined) return fallback as F;
    const lower = value.toLowerCase();
    const match = values.find((candidate) => candidate === lower);
    if (match === undefined) {
      ctx.addIssue({ code: "custom", message: `expected one of ${values.join(", ")}, got ${shown(value)}` });
      return z.NEVER;
    }
    return match;
  });

/** A file's content for a `*_FILE` variable; unreadable files are an issue on that variable. */
export const envFileContent = () =>
  envText().transform((path, ctx) => {
    if (path === undefined) return undefined;
    try {
      return { path, content: readFileSync(path, "utf8") };
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      ctx.addIssue({ code: "custom", message: `cannot read ${shown(path)} (${reason})` });
      return z.NEVER;
    }
  });

/**
 * A secret given either as `NAME` or as a file `NAME_FILE` (how Kubernetes mounts a Secret). Setting both is an
 * error on `NAME_FILE`; the file's content loses one trailing newline (what `echo` or an editor adds).
 * Call from a `superRefine`/`transform` over the object holding both variables.
 */
export function secretOf(
  env: Record<string, unknown>,
  name: string,
  ctx: z.RefinementCtx,
): string | undefined {
  const inline = env[name] as string | undefined;
  const file = env[`${name}_FILE`] as { path: string; content: string } | undefined;
  if (inline !== undefined && file !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: [`${name}_FILE`],
      message: `set either ${name} or ${name}_FILE, not both`,
    });
    return undefined;
  }
  if (file === undefined) return inline;
  const value = file.content.replace(/\r?\n$/, "");
  if (value === "") {
    ctx.addIssue({ code: "custom", path: [`${name}_FILE`], message: `${shown(file.path)} is empty` });
    return undefined;
  }
  return value;
}

/**
 * One secret alone: the value of `name`, or the content of the file `${name}_FILE` names (a trailing newline
 * dropped); undefined when neither is set. Throws an {@link EnvConfigError} naming the variable when both are set,
 * or the file is missing, unreadable or empty.
 */
export function secretFromEnv(env: Env, name: string, what?: string): string | undefined {
  const schema = z
    .object({ [name]: envText(), [`${name}_FILE`]: envFileContent() })
    .transform((values, ctx) => secretOf(values, name, ctx));
  return parseEnv(schema, env, what);
}

/** Issue lines, each starting with the variable's name, from a failed parse. */
export function envIssues(error: z.ZodError): string[] {
  return error.issues.map(
    (issue) => `${issue.path.map(String).join(".") || "environment"}: ${issue.message}`,
  );
}

/** Parses `env` with `schema`; throws an {@link EnvConfigError} listing every bad variable. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Env, what?: string): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new EnvConfigError(envIssues(result.error), what);
}
