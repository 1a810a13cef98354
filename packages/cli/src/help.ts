import type { FlagSpec } from "./args";
import { COMMANDS, subcommandsOf } from "./commands";
import { commandName, type Command } from "./commands/types";
import {
  API_TOKEN_VARIABLE as TOKEN_VARIABLE,
  COORDINATOR_URL_VARIABLE as URL_VARIABLE,
  DEFAULT_COORDINATOR_URL as DEFAULT_URL,
} from "@omnidaemon/protocol";

/** Flags every API command accepts, besides its own. */
export const API_GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: "url", value: "url", description: `coordinator URL (else $${URL_VARIABLE}, else ${DEFAULT_URL})` },
  { name: "token", value: "token", description: `API token (else $${TOKEN_VARIABLE})` },
  { name: "json", description: "print the API's JSON (stable, for scripts) instead of tables" },
  { name: "yes", short: "y", description: "do not ask for confirmation" },
  { name: "help", short: "h", description: "show this help" },
];

export const HELP_FLAG: FlagSpec = { name: "help", short: "h", description: "show this help" };

function isDestructive(command: Command): boolean {
  return command.kind === "api" && command.destructive !== undefined && command.destructive !== false;
}

/** The global flags shown in a command's help: `--yes` only where there is something to confirm. */
function globalFlagsOf(command: Command): FlagSpec[] {
  if (command.kind === "launcher") return [HELP_FLAG];
  return API_GLOBAL_FLAGS.filter((flag) => flag.name !== "yes" || isDestructive(command));
}

function flagSynopsis(flag: FlagSpec): string {
  const value = flag.value === undefined ? "" : ` <${flag.value}>${flag.multiple ? "..." : ""}`;
  const text = `--${flag.name}${value}`;
  return flag.required ? text : `[${text}]`;
}

/** `agent delete --topic <topic> --name <name> [--cleanup] [--delete-dlq] [--json] [--yes]`. */
export function usageLine(command: Command): string {
  const name = commandName(command);
  if (command.synopsis !== undefined) return `usage: omnidaemon ${name} ${command.synopsis}`;
  const parts: string[] = [];
  for (const positional of command.positionals ?? []) {
    parts.push(positional.required ? `<${positional.name}>` : `[<${positional.name}>]`);
  }
  for (const flag of command.flags ?? []) if (!flag.hidden) parts.push(flagSynopsis(flag));
  if (command.kind === "api") {
    parts.push("[--json]");
    if (isDestructive(command)) parts.push("[--yes]");
  }
  return `usage: omnidaemon ${name}${parts.length > 0 ? ` ${parts.join(" ")}` : ""}`;
}

function flagLeft(flag: FlagSpec): string {
  const short = flag.short === undefined ? "    " : `-${flag.short}, `;
  const value = flag.value === undefined ? "" : ` <${flag.value}>${flag.multiple ? "..." : ""}`;
  return `${short}--${flag.name}${value}`;
}

/** Flag lines, the descriptions aligned at `width` (by default, the widest of these flags). */
function flagLines(
  flags: readonly FlagSpec[],
  width = Math.max(...flags.map((f) => flagLeft(f).length)),
): string[] {
  return flags
    .filter((flag) => !flag.hidden)
    .map((flag) => {
      const required = flag.required ? " (required)" : "";
      return `  ${flagLeft(flag).padEnd(width)}  ${flag.description}${required}`;
    });
}

/** `omnidaemon <command> --help`: usage, description, flags, global flags, examples. */
export function renderHelp(command: Command): string {
  const lines = [usageLine(command), "", command.description, ""];
  const positionals = command.positionals ?? [];
  if (positionals.length > 0) {
    lines.push("arguments:");
    const width = Math.max(...positionals.map((p) => p.name.length + 2));
    for (const positional of positionals) {
      lines.push(`  ${`<${positional.name}>`.padEnd(width)}  ${positional.description}`);
    }
    lines.push("");
  }
  const own = (command.flags ?? []).filter((flag) => !flag.hidden);
  const globals = globalFlagsOf(command);
  const width = Math.max(...[...own, ...globals].map((flag) => flagLeft(flag).length));
  if (own.length > 0) lines.push("flags:", ...flagLines(own, width), "");
  lines.push("global flags:", ...flagLines(globals, width), "");
  lines.push(command.examples.length > 1 ? "examples:" : "example:");
  for (const example of command.examples) lines.push(`  ${example}`);
  return `${lines.join("\n")}\n`;
}

function commandList(commands: readonly Command[]): string[] {
  const width = Math.max(...commands.map((command) => commandName(command).length));
  return commands.map((command) => `  ${commandName(command).padEnd(width)}  ${command.summary}`);
}

/** `omnidaemon --help`. Starts with `usage: omnidaemon`. */
export function renderUsage(): string {
  return [
    "usage: omnidaemon <command> [flags]",
    "",
    "The operator's command of the OmniDaemon fleet: a thin client of the coordinator's REST API, plus the",
    "launchers of the coordinator and the worker.",
    "",
    "commands:",
    ...commandList(COMMANDS),
    "",
    "global flags (API commands):",
    ...flagLines(API_GLOBAL_FLAGS),
    "",
    "environment:",
    `  ${URL_VARIABLE}  the coordinator's URL (default ${DEFAULT_URL})`,
    `  ${TOKEN_VARIABLE}        the coordinator's API token, if it has one`,
    `  ${TOKEN_VARIABLE}_FILE   a file holding it instead (a mounted Kubernetes secret)`,
    "  NO_COLOR                    no colours (they are only used when stdout is a terminal anyway)",
    "",
    "exit codes: 0 success, 1 the operation failed, 2 usage error.",
    "",
    "examples:",
    "  omnidaemon coordinator",
    "  omnidaemon worker --agents ./agents.js",
    "  omnidaemon agent list",
    "  omnidaemon health",
    "  omnidaemon agent unsubscribe --topic file.uploaded --name file-processor",
    "",
    "omnidaemon <command> --help shows a command's flags and an example; omnidaemon --version the version.",
    "",
  ].join("\n");
}

/** `omnidaemon agent` (a group): its subcommands. */
export function renderGroupHelp(prefix: readonly string[]): string {
  const name = prefix.join(" ");
  return [
    `usage: omnidaemon ${name} <command> [flags]`,
    "",
    "commands:",
    ...commandList(subcommandsOf(prefix)),
    "",
    `omnidaemon ${name} <command> --help shows a command's flags and an example.`,
    "",
  ].join("\n");
}

export const REFERENCE_BEGIN =
  "<!-- BEGIN GENERATED: omnidaemon --help (packages/cli/src/reference.test.ts) -->";
export const REFERENCE_END = "<!-- END GENERATED -->";

/** The generated part of docs/cli.md: every command's `--help`, verbatim. */
export function renderReference(): string {
  const sections = COMMANDS.map(
    (command) => `### omnidaemon ${commandName(command)}\n\n\`\`\`text\n${renderHelp(command)}\`\`\`\n`,
  );
  return [
    REFERENCE_BEGIN,
    "",
    "```text",
    renderUsage().trimEnd(),
    "```",
    "",
    ...sections,
    REFERENCE_END,
  ].join("\n");
}
