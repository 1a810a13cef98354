// Public surface of @omnidaemon/cli (the binary is dist/bin.js).
export { APPS, appEntry, launchApp, type AppName } from "./launch-app";
