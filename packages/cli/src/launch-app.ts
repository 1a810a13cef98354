import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** The apps the CLI starts. They run as their own process: the CLI never imports an app. */
export const APPS = {
  coordinator: "@omnidaemon/coordinator",
  worker: "@omnidaemon/worker",
} as const;

export type AppName = keyof typeof APPS;

/** Finds an app's built entry point (`dist/main.js`) through node's module resolution. */
export function appEntry(app: AppName, resolve: (id: string) => string = require.resolve): string {
  let packageJson: string;
  try {
    packageJson = resolve(`${APPS[app]}/package.json`);
  } catch {
    throw new Error(`${APPS[app]} is not installed next to the CLI (npm ci at the repository root)`);
  }
  const entry = join(dirname(packageJson), "dist", "main.js");
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run \`npm run build\` first`);
  return entry;
}

/**
 * Runs an app with the given arguments in the foreground: stdio inherited, SIGTERM/SIGINT forwarded (so the app's
 * own graceful shutdown runs), and the app's exit code returned.
 */
export function launchApp(app: AppName, args: string[]): Promise<number> {
  const child = spawn(process.execPath, [appEntry(app), ...args], { stdio: "inherit" });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onTerm = forward("SIGTERM");
  const onInt = forward("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      resolve(code ?? (signal ? 128 + 15 : 1));
    });
  });
}
