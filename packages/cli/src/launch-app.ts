import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** The apps the CLI starts, by loading their built entry at run time (no code imports an app). */
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
 * Runs an app in this process: loads its built entry (`dist/main.js`) and calls its `main(env, argv)`. One process,
 * so a terminal's Ctrl-C or a container's SIGTERM reaches the app exactly once (a second signal means "force exit"
 * to it), the exit code is the app's own, and the app is PID 1 in a container. The app is loaded by path at run
 * time; no code imports it.
 */
export async function launchApp(app: AppName, args: string[]): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the app's entry, chosen at run time
  const entry = require(appEntry(app)) as {
    main?: (env: NodeJS.ProcessEnv, argv: string[]) => Promise<void>;
  };
  if (typeof entry.main !== "function") throw new Error(`${APPS[app]} has no main() in dist/main.js`);
  await entry.main(process.env, args);
  // main() ends the process itself (runService exits); if it returns, the app is done.
  return 0;
}
