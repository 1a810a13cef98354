import { join } from "node:path";

/**
 * The absolute path of the console's built assets (`index.html` and `assets/`), which the coordinator serves under
 * `/ui`. They are made by `npm run build` (Vite); the directory does not exist in a checkout that was not built.
 */
export function consoleAssetsDir(): string {
  // dist/index.js sits beside dist/ui/; from the sources (tests, ts-node) src/ sits beside dist/ too.
  return join(__dirname, "..", "dist", "ui");
}
