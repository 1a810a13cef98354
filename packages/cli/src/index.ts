// Public surface of @omnidaemon/cli (the binary is dist/bin.js).
export { APPS, appEntry, launchApp, type AppName } from "./launch-app";
export { run, type RunDeps } from "./main";
export { COMMANDS } from "./commands";
export { EXIT } from "./errors";
