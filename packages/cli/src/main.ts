import { hostname, userInfo } from "node:os";
import { isFlagToken, parseArgs, type ParsedArgs } from "./args";
import { findCommand, subcommandsOf } from "./commands";
import { commandName, type ApiCommand, type Command, type Context } from "./commands/types";
import { ask, confirmDecision } from "./confirm";
import { EXIT, OperationError, UsageError } from "./errors";
import { API_GLOBAL_FLAGS, renderGroupHelp, renderHelp, renderUsage, usageLine } from "./help";
import {
  API_TOKEN_VARIABLE as TOKEN_VARIABLE,
  COORDINATOR_URL_VARIABLE as URL_VARIABLE,
  CoordinatorApiError,
  CoordinatorClient,
  CoordinatorUnreachableError,
  DEFAULT_COORDINATOR_URL as DEFAULT_URL,
} from "@omnidaemon/protocol";
import { EnvConfigError, secretFromEnv } from "@omnidaemon/lifecycle";
import type { Io } from "./io";
import type { AppName } from "./launch-app";
import { colourEnabled, paint, statusStyle } from "./output/colour";
import { renderFields, renderTable } from "./output/table";

export interface RunDeps {
  /** Starts an app in the foreground; launch-app.ts in production. */
  launch: (app: AppName, args: string[]) => Promise<number>;
  fetch?: typeof fetch;
}

/** Global flags that take a value, for reading them before the command's name (`omnidaemon --url X health`). */
const VALUE_GLOBALS = new Set(["--url", "--token"]);

interface Resolved {
  /** Tokens before the command's name (global flags). */
  leading: string[];
  /** The words that name the command (or group, or nothing known). */
  words: string[];
  command: Command | undefined;
  /** Tokens after the command's name. */
  rest: string[];
}

/** Splits the command line into leading global flags, the longest known command name, and its arguments. */
export function resolve(argv: readonly string[]): Resolved {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && isFlagToken(argv[i] as string)) {
    const token = argv[i] as string;
    leading.push(token);
    if (VALUE_GLOBALS.has(token) && i + 1 < argv.length) leading.push(argv[++i] as string);
    i++;
  }
  const words: string[] = [];
  let command: Command | undefined;
  let end = i;
  for (let j = i; j < argv.length && !isFlagToken(argv[j] as string); j++) {
    words.push(argv[j] as string);
    const found = findCommand(words.join(" "));
    if (found !== undefined) {
      command = found;
      end = j + 1;
    }
  }
  if (command !== undefined) return { leading, words: [...command.path], command, rest: argv.slice(end) };
  return { leading, words, command: undefined, rest: argv.slice(i + words.length) };
}

/** Runs one command line; returns the exit code. Never throws. */
export async function run(argv: readonly string[], io: Io, deps: RunDeps): Promise<number> {
  const { leading, words, command, rest } = resolve(argv);
  const wantsHelp = [...leading, ...rest].some((token) => token === "--help" || token === "-h");

  if (command === undefined) {
    if (words[0] === "help") return help(words.slice(1), io);
    if (words.length === 0) {
      if (leading.includes("--version") || leading.includes("-v")) {
        io.stdout.write(`omnidaemon ${version()}\n`);
        return EXIT.ok;
      }
      io[wantsHelp ? "stdout" : "stderr"].write(renderUsage());
      return wantsHelp ? EXIT.ok : EXIT.usage;
    }
    // A group (`agent`, `bus dlq`) or a mistyped command.
    const known = longestGroup(words);
    if (known.length === words.length) {
      io[wantsHelp ? "stdout" : "stderr"].write(renderGroupHelp(known));
      return wantsHelp ? EXIT.ok : EXIT.usage;
    }
    io.stderr.write(
      `omnidaemon: unknown command "${words.join(" ")}"\n\n${known.length > 0 ? renderGroupHelp(known) : renderUsage()}`,
    );
    return EXIT.usage;
  }

  if (command.kind === "launcher") {
    if (wantsHelp) {
      io.stdout.write(renderHelp(command));
      return EXIT.ok;
    }
    if (leading.length > 0) {
      return usageError(
        io,
        command,
        new UsageError(`${leading[0]} does not apply to ${commandName(command)}`),
      );
    }
    try {
      return await deps.launch(command.app, [...command.appArgs, ...rest]);
    } catch (error) {
      io.stderr.write(`omnidaemon ${commandName(command)}: ${(error as Error).message}\n`);
      return EXIT.failed;
    }
  }
  return runApiCommand(command, [...leading, ...rest], io, deps);
}

function help(words: string[], io: Io): number {
  if (words.length === 0) {
    io.stdout.write(renderUsage());
    return EXIT.ok;
  }
  const command = findCommand(words.join(" "));
  if (command !== undefined) {
    io.stdout.write(renderHelp(command));
    return EXIT.ok;
  }
  if (longestGroup(words).length === words.length) {
    io.stdout.write(renderGroupHelp(words));
    return EXIT.ok;
  }
  io.stderr.write(`omnidaemon: unknown command "${words.join(" ")}"\n\n${renderUsage()}`);
  return EXIT.usage;
}

/** The longest prefix of `words` that has subcommands. */
function longestGroup(words: readonly string[]): string[] {
  for (let n = words.length; n > 0; n--) {
    if (subcommandsOf(words.slice(0, n)).length > 0) return words.slice(0, n);
  }
  return [];
}

async function runApiCommand(command: ApiCommand, tokens: string[], io: Io, deps: RunDeps): Promise<number> {
  const name = commandName(command);
  let args: ParsedArgs;
  let client: CoordinatorClient;
  try {
    args = parseArgs(tokens, {
      flags: [...(command.flags ?? []), ...API_GLOBAL_FLAGS],
      positionals: command.positionals ?? [],
      command: name,
    });
    if (args.help) {
      io.stdout.write(renderHelp(command));
      return EXIT.ok;
    }
    command.validate?.(args);
    client = new CoordinatorClient({
      url: coordinatorUrl(args, io.env),
      ...tokenOf(args, io.env),
      actor: actor(),
      ...(deps.fetch !== undefined && { fetch: deps.fetch }),
    });
  } catch (error) {
    if (error instanceof UsageError) return usageError(io, command, error);
    throw error;
  }

  const destructive =
    typeof command.destructive === "function" ? command.destructive(args) : command.destructive === true;
  const decision = destructive
    ? confirmDecision({ yes: args.flag("yes"), stdinIsTTY: io.stdinIsTTY })
    : "proceed";
  if (decision === "refuse") {
    return usageError(
      io,
      command,
      new UsageError(
        "this command changes the fleet and asks for confirmation, but stdin is not a terminal: pass --yes to " +
          "confirm it",
      ),
    );
  }

  const colour = !args.flag("json") && colourEnabled(io.env, io.stdoutIsTTY);
  const context: Context = {
    io,
    args,
    json: args.flag("json"),
    colour,
    client,
    asking: decision === "ask",
    print: (text) => void io.stdout.write(text),
    printJson: (value) => void io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    printTable: (headers, rows, options = {}) => {
      if (rows.length === 0 && options.empty !== undefined) io.stdout.write(options.empty);
      else
        io.stdout.write(
          renderTable(headers, rows, { colour, ...(options.right && { right: options.right }) }),
        );
    },
    printFields: (fields) => void io.stdout.write(renderFields(fields, { colour })),
    paint: (status) => paint(status, statusStyle(status), colour),
    status: (status) => {
      const style = statusStyle(status);
      return style === undefined ? status : { text: status, style };
    },
    note: (text) => void io.stderr.write(`${text}\n`),
    confirm: async (question) => {
      if (decision !== "ask") return;
      if (!(await ask(question, io))) throw new OperationError("not confirmed: nothing was changed");
    },
  };

  try {
    return (await command.run(context)) ?? EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) return usageError(io, command, error);
    io.stderr.write(`omnidaemon ${name}: ${explain(error, args, client)}\n`);
    return EXIT.failed;
  }
}

function usageError(io: Io, command: Command, error: UsageError): number {
  const name = commandName(command);
  io.stderr.write(
    `omnidaemon ${name}: ${error.message}\n${usageLine(command)}\n(omnidaemon ${name} --help shows more)\n`,
  );
  return EXIT.usage;
}

/** The coordinator's URL: --url, else OMNIDAEMON_COORDINATOR_URL, else the default; a bad one is a usage error. */
export function coordinatorUrl(args: Pick<ParsedArgs, "string">, env: NodeJS.ProcessEnv): string {
  const fromFlag = args.string("url");
  const fromEnv = env[URL_VARIABLE] === "" ? undefined : env[URL_VARIABLE];
  const url = fromFlag ?? fromEnv ?? DEFAULT_URL;
  const source = fromFlag !== undefined ? "--url" : fromEnv !== undefined ? URL_VARIABLE : "the default URL";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${source} is not a URL: "${url}" (expected e.g. ${DEFAULT_URL})`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`${source} must be an http:// or https:// URL, got "${url}"`);
  }
  return url;
}

/** `--token`, else `OMNIDAEMON_API_TOKEN`, else the file `OMNIDAEMON_API_TOKEN_FILE` names (as every app reads it). */
function tokenOf(args: Pick<ParsedArgs, "string">, env: NodeJS.ProcessEnv): { token?: string } {
  const flag = args.string("token");
  if (flag !== undefined) return { token: flag };
  let token: string | undefined;
  try {
    token = secretFromEnv(env, TOKEN_VARIABLE);
  } catch (error) {
    if (error instanceof EnvConfigError) throw new UsageError(error.issues.join("; "));
    throw error;
  }
  return token === undefined ? {} : { token };
}

/** `cli:<user>@<host>`, recorded in the coordinator's audit log. */
export function actor(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.USERNAME ?? "unknown";
  }
  return `cli:${user}@${hostname()}`;
}

/** API field → the flag that sets it, for 400 answers. */
const FIELD_FLAGS: Record<string, string> = {
  agent: "--name",
  name: "--name",
  topic: "--topic",
  stream: "--stream",
  limit: "--limit",
  status: "--status",
  content: "--content",
  webhook: "--webhook",
  reply_to: "--reply-to",
  correlation_id: "--correlation-id",
  tenant_id: "--tenant-id",
  ids: "--id",
  "filter.error_class": "--error-class",
  id: "<id>",
  rateLimit: "--per-second or --per-minute",
  "rateLimit.perSecond": "--per-second",
  "rateLimit.perMinute": "--per-minute",
  "rateLimit.burst": "--burst",
  "rateLimit.scope": "--scope",
  maxInFlight: "--max-in-flight",
};

/** A failure, in words a person can act on. */
export function explain(
  error: unknown,
  args: Pick<ParsedArgs, "string">,
  client: Pick<CoordinatorClient, "url" | "hasToken">,
): string {
  if (error instanceof CoordinatorUnreachableError) {
    return (
      `${error.message}\n` +
      `  start it (omnidaemon coordinator), or point ${URL_VARIABLE} (or --url) at a running coordinator`
    );
  }
  if (error instanceof CoordinatorApiError) {
    switch (error.status) {
      case 401:
        return (
          `the coordinator at ${error.url} refused the request (401 unauthorized): ` +
          (client.hasToken ? "the API token is wrong" : "it requires an API token") +
          `\n  set ${TOKEN_VARIABLE} (or pass --token) to the coordinator's token`
        );
      case 404:
        if (error.details.known !== undefined) return unknownAgent(error, args);
        return error.message;
      case 400: {
        const flag = error.details.field === undefined ? undefined : FIELD_FLAGS[error.details.field];
        return `the coordinator refused the input: ${error.message}${flag ? ` (check ${flag})` : ""}`;
      }
      case 503:
        return `the coordinator cannot do this now (503): ${error.message}`;
      default:
        return `${error.method} ${error.path} failed with ${error.status}: ${error.message}`;
    }
  }
  if (error instanceof OperationError) return error.message;
  return (error as Error)?.message ?? String(error);
}

function unknownAgent(error: CoordinatorApiError, args: Pick<ParsedArgs, "string">): string {
  const topic = args.string("topic");
  const name = args.string("name");
  const known = error.details.known ?? [];
  const head =
    topic !== undefined && name !== undefined
      ? `unknown agent: "${name}" is not registered on topic "${topic}"`
      : error.message;
  const tail =
    known.length > 0
      ? `known agents on "${topic ?? "the topic"}": ${known.join(", ")}`
      : `no agents are registered on "${topic ?? "the topic"}" (omnidaemon agent list shows every topic)`;
  return `${head}\n  ${tail}`;
}

function version(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require("../package.json") as { version: string }).version;
  } catch {
    return "unknown";
  }
}
