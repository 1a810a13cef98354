// Jest globalTeardown of the `integration` project: stops what test/global-setup.js started (testcontainers, or
// the local stack when it was not already up) and nothing else. Setup and teardown share jest's parent process.
"use strict";
const { STOP_KEY } = require("./global-setup.js");

module.exports = async function globalTeardown() {
  const stop = globalThis[STOP_KEY];
  delete globalThis[STOP_KEY];
  if (stop) await stop();
};
