import { agentCommands } from "./agent";
import { launcherCommands } from "./apps";
import { busCommands } from "./bus";
import { healthCommands } from "./health";
import { storageCommands } from "./storage";
import { taskCommands } from "./task";
import { commandName, type Command } from "./types";

/** Every command, in the order of `omnidaemon --help` and docs/cli.md. */
export const COMMANDS: readonly Command[] = [
  ...agentCommands,
  ...healthCommands,
  ...busCommands,
  ...storageCommands,
  ...taskCommands,
  ...launcherCommands,
];

const BY_NAME = new Map(COMMANDS.map((command) => [commandName(command), command]));

export function findCommand(name: string): Command | undefined {
  return BY_NAME.get(name);
}

/** Command groups (`agent`, `bus`, `bus dlq`, …): a prefix of some command's path that is not only a command. */
export function subcommandsOf(prefix: readonly string[]): Command[] {
  return COMMANDS.filter(
    (command) => command.path.length > prefix.length && prefix.every((word, i) => command.path[i] === word),
  );
}

export type { Command } from "./types";
