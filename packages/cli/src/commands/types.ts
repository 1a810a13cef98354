import type { FlagSpec, ParsedArgs, PositionalSpec } from "../args";
import type { CoordinatorClient } from "@omnidaemon/protocol";
import type { Io } from "../io";
import type { Cell } from "../output/table";

/** What a command's `run` gets: its parsed arguments, the API client and the output helpers. */
export interface Context {
  io: Io;
  args: ParsedArgs;
  /** `--json`: print the API's JSON, nothing else, on stdout. */
  json: boolean;
  colour: boolean;
  /** The protocol's coordinator client: one typed method per API route. */
  client: CoordinatorClient;
  /** Writes to stdout as is. */
  print(text: string): void;
  /** The API's JSON, pretty-printed, on stdout. */
  printJson(value: unknown): void;
  /** An aligned table on stdout (`empty` instead when there are no rows). */
  printTable(
    headers: readonly string[],
    rows: readonly (readonly Cell[])[],
    options?: { right?: number[]; empty?: string },
  ): void;
  /** `key  value` lines, keys aligned. */
  printFields(fields: ReadonlyArray<readonly [string, Cell]>): void;
  /** A status word, coloured when colour is on, as text. */
  paint(status: string): string;
  /** A line on stderr (notes and warnings, so stdout stays parseable). */
  note(text: string): void;
  /** A status word, coloured when colour is on. */
  status(text: string): Cell;
  /** A destructive command will ask (no `--yes`, stdin is a terminal): check what you can before asking. */
  asking: boolean;
  /**
   * Asks before a destructive action (unless `--yes`); resolves when the answer is yes. Refuses with a usage error
   * when stdin is not a terminal, and fails when the person answers no.
   */
  confirm(question: string): Promise<void>;
}

interface CommandBase {
  /** `["agent", "delete"]`. */
  path: readonly string[];
  /** One line, for command lists. */
  summary: string;
  /** A paragraph for `--help` (wrapped by hand, at most 110 columns). */
  description: string;
  /** The synopsis after `omnidaemon <path>`, when the generated one cannot say it (alternatives). */
  synopsis?: string;
  flags?: readonly FlagSpec[];
  positionals?: readonly PositionalSpec[];
  /** At least one, each a complete command line. */
  examples: readonly string[];
}

/** A command that talks to the coordinator API. */
export interface ApiCommand extends CommandBase {
  kind: "api";
  /** Asks for confirmation unless `--yes` (a function when it depends on the flags: not with `--dry-run`). */
  destructive?: boolean | ((args: ParsedArgs) => boolean);
  /** Checks across flags the parser cannot (one of three selectors); throws UsageError. */
  validate?(args: ParsedArgs): void;
  /** Returns the exit code; undefined means 0. */
  run(context: Context): Promise<number | void>;
}

/** A command that starts an app in the foreground (`coordinator`, `worker`); its arguments go to the app. */
export interface LauncherCommand extends CommandBase {
  kind: "launcher";
  app: "coordinator" | "worker";
  /** Arguments put before the user's (`migrate`). */
  appArgs: readonly string[];
}

export type Command = ApiCommand | LauncherCommand;

export const commandName = (command: Pick<Command, "path">): string => command.path.join(" ");
