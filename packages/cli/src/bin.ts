#!/usr/bin/env node
// `omnidaemon`: the operator's command. This first cut starts the apps; the coordinator-API commands (agent,
// health, metrics, bus, storage, task) arrive with the CLI issue.
import { launchApp, type AppName } from "./launch-app";

const USAGE = `usage: omnidaemon <command>

commands:
  coordinator            start the coordinator (REST API on OMNIDAEMON_API_PORT, default 8765)
  coordinator migrate    apply the database migrations and exit (for a Helm hook job)
  worker --agents <file> start a worker running the agents the module exports

examples:
  omnidaemon coordinator
  omnidaemon worker --agents ./agents.js
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "coordinator" || command === "worker") {
    if (rest.includes("--help") || rest.includes("-h")) {
      process.stdout.write(USAGE);
      return 0;
    }
    return launchApp(command as AppName, rest);
  }
  process.stderr.write(`omnidaemon: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`omnidaemon: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
