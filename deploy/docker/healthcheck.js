// The image's HEALTHCHECK: healthy when this container's app answers its liveness probe — the worker's /livez on
// OMNIDAEMON_METRICS_PORT (default 9464) or the coordinator's /livez on OMNIDAEMON_API_PORT (default 8765).
// Exit 0 healthy, 1 not (docker's contract). Plain node, no dependencies.
"use strict";
const http = require("node:http");

const ports = [process.env.OMNIDAEMON_METRICS_PORT || "9464", process.env.OMNIDAEMON_API_PORT || "8765"];

function live(port) {
  return new Promise((resolve) => {
    const request = http.get(
      { host: "127.0.0.1", port: Number(port), path: "/livez", timeout: 4000 },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

Promise.all(ports.map(live)).then((answers) => process.exit(answers.includes(true) ? 0 : 1));
