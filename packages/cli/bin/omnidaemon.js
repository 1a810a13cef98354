#!/usr/bin/env node
// The `omnidaemon` executable. A committed file rather than dist/bin.js itself, so that `npm ci` on a fresh clone
// links it into node_modules/.bin before anything is built (npm skips a bin whose target does not exist yet).
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const built = join(__dirname, "..", "dist", "bin.js");
if (!existsSync(built)) {
  process.stderr.write(`omnidaemon: ${built} does not exist: run \`npm run build\` first\n`);
  process.exit(1);
}
require(built);
