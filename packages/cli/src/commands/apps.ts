import type { LauncherCommand } from "./types";

const coordinator: LauncherCommand = {
  kind: "launcher",
  app: "coordinator",
  appArgs: [],
  path: ["coordinator"],
  summary: "start the coordinator (REST API on OMNIDAEMON_API_PORT, default 8765)",
  description:
    "Runs the coordinator in the foreground until SIGTERM or SIGINT (forwarded to it, so it shuts down gracefully),\n" +
    "and exits with its exit code. It is configured by environment variables only: OMNIDAEMON_KAFKA_BROKERS and\n" +
    "OMNIDAEMON_DATABASE_URL are required; docs/control-plane.md lists the others. It applies the database\n" +
    "migrations when it starts.",
  examples: [
    "OMNIDAEMON_KAFKA_BROKERS=localhost:9092 OMNIDAEMON_DATABASE_URL=postgres://localhost/omnidaemon omnidaemon coordinator",
  ],
};

const migrate: LauncherCommand = {
  kind: "launcher",
  app: "coordinator",
  appArgs: ["migrate"],
  path: ["coordinator", "migrate"],
  summary: "apply the database migrations and exit (for a Helm hook job)",
  description:
    "Applies the coordinator's database migrations to OMNIDAEMON_DATABASE_URL (schema OMNIDAEMON_DATABASE_SCHEMA,\n" +
    "default public) and exits 0; running it again is harmless. Exits 2 naming the variable when the\n" +
    "configuration is invalid, 1 when the migrations fail.",
  examples: ["omnidaemon coordinator migrate"],
};

const worker: LauncherCommand = {
  kind: "launcher",
  app: "worker",
  appArgs: [],
  path: ["worker"],
  summary: "start a worker running the agents a module exports",
  description:
    "Runs a worker in the foreground until SIGTERM or SIGINT (forwarded to it, so it drains and commits), and\n" +
    "exits with its exit code. The module (or OMNIDAEMON_AGENTS_MODULE) exports a list of agent definitions;\n" +
    "docs/worker.md has the details and the worker's environment variables.",
  flags: [
    { name: "agents", value: "module", description: "the agents module (else OMNIDAEMON_AGENTS_MODULE)" },
  ],
  examples: ["omnidaemon worker --agents ./agents.js"],
};

export const launcherCommands: LauncherCommand[] = [coordinator, migrate, worker];
