// The coordinator app. Started by `omnidaemon coordinator` (or `node dist/main.js`); nothing imports it as a library.
export { main } from "./main";
