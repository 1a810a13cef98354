// Stops the secure stack only when test/secure/global-setup.js started it.
"use strict";
module.exports = async function globalTeardown() {
  const stop = globalThis.__omnidaemonSecureStop;
  if (stop) stop();
};
