#!/usr/bin/env node
// `omnidaemon`: the operator's command. A thin client of the coordinator's REST API (agent, health, metrics, bus,
// storage, task) plus the launchers of the apps (coordinator, coordinator migrate, worker). docs/cli.md is the
// reference; main.ts dispatches.
import { processIo } from "./io";
import { launchApp } from "./launch-app";
import { run } from "./main";

run(process.argv.slice(2), processIo(), { launch: launchApp }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`omnidaemon: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
