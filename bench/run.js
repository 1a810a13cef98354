// Entry point of `npm run bench` (after `npm run build`). The benchmark is TypeScript run through tsx; this
// starts it with the same arguments and exit code. The scenarios load the workspace packages' TypeScript sources
// (tsconfig paths), like the tests do; see bench/README.md.
const { spawn } = require("node:child_process");
const path = require("node:path");

const child = spawn(
  process.execPath,
  ["--import", "tsx", path.join(__dirname, "main.ts"), ...process.argv.slice(2)],
  {
    cwd: path.join(__dirname, ".."),
    stdio: "inherit",
  },
);
// Forward signals: the child deletes its topics and groups, then exits (it ignores a repeated signal).
process.on("SIGINT", () => child.kill("SIGINT"));
process.on("SIGTERM", () => child.kill("SIGTERM"));
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
