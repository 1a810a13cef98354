import { join, resolve } from "node:path";

/** The repository's root directory. */
export const ROOT = resolve(__dirname, "..", "..", "..");
/** The built CLI (`npm run build` first): the launcher of both apps, and the operators' client. */
export const CLI = join(ROOT, "packages", "cli", "dist", "bin.js");
