// The worker app. Started by `omnidaemon worker --agents <module>` (or `node dist/main.js`); not a library.
export { main } from "./main";
