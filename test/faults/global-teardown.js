// Jest globalTeardown of the `faults` project: prints the table of the scenarios that ran and writes it to
// bench/results/faults-latest.md, then stops what the integration setup started (nothing when the stack was up).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const integrationTeardown = require("../global-teardown.js");

const ROOT = path.resolve(__dirname, "..", "..");
// One table per Kafka client (the CI runs the suite on both, docs/kafka-clients.md): faults-latest.md for the
// default client, faults-latest-<client>.md for the other.
const CLIENT = (process.env.OMNIDAEMON_KAFKA_CLIENT || "kafkajs").toLowerCase();
const OUT = path.join(
  ROOT,
  "bench",
  "results",
  CLIENT === "kafkajs" ? "faults-latest.md" : `faults-latest-${CLIENT}.md`,
);
// The order of docs/faults.md; scenarios not listed follow in the order they ran.
const ORDER = [
  "broker restart (controlled)",
  "broker restart (SIGKILL)",
  "postgres down 30 s",
  "coordinator killed 60 s",
  "worker SIGKILL (1 of 3)",
  "scale 1 → 3 → 1",
  "poison records",
  "hanging handler",
  "burst 10×",
];

const dash = (value) => (value === null ? "—" : String(value));

function render(rows) {
  const rank = (row) => {
    const i = ORDER.indexOf(row.scenario);
    return i === -1 ? ORDER.length : i;
  };
  const sorted = [...rows].sort((a, b) => rank(a) - rank(b));
  const lines = [
    "| scenario | published | processed | lost | duplicates | recovery s | result |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...sorted.map(
      (r) =>
        `| ${r.scenario} | ${r.published} | ${dash(r.processed)} | ${dash(r.lost)} | ${dash(r.duplicates)} | ` +
        `${r.recoverySeconds === null ? "—" : r.recoverySeconds.toFixed(1)} | ${r.verdict} |`,
    ),
  ];
  const notes = sorted.filter((r) => r.notes.length > 0);
  if (notes.length > 0) {
    lines.push("", "Notes:", "");
    for (const r of notes)
      for (const note of r.notes) lines.push(`- ${r.scenario}: ${note.replace(/\|/g, "\\|")}`);
  }
  return lines.join("\n");
}

module.exports = async function globalTeardown() {
  const file = process.env.OMNIDAEMON_FAULTS_ROWS;
  try {
    if (file && fs.existsSync(file)) {
      const rows = fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      if (rows.length > 0) {
        const table = render(rows);
        console.log(`\nfault suite:\n\n${table}\n`);
        const header = [
          "# Fault suite: latest run",
          "",
          "Written by `npm run test:faults` (test/faults, described in docs/faults.md). Every scenario publishes a",
          "known set of ids at a steady rate and checks which ids the callbacks saw. Lost and duplicates are exact",
          "counts; recovery is the time from the fault's end until /health read `running` and every event",
          "published before the fault's end was processed (reported, never asserted).",
          "",
          `Run: ${new Date().toISOString()}; Kafka client ${CLIENT}; Node ${process.version}; ` +
            `Kafka ${process.env.OMNIDAEMON_STACK_KAFKA_VERSION ?? "?"}; ` +
            `PostgreSQL ${process.env.OMNIDAEMON_STACK_POSTGRES_VERSION ?? "?"}.`,
          "",
        ];
        fs.mkdirSync(path.dirname(OUT), { recursive: true });
        fs.writeFileSync(OUT, `${header.join("\n")}\n${table}\n`);
      }
    }
  } finally {
    await integrationTeardown();
  }
};
