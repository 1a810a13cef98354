// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

/*
 * The house's boundaries (docs/architecture.md), enforced here rather than remembered: which package may import
 * which client library, and which workspace package, in the runtime sources (apps/*\/src, packages/*\/src, unit
 * tests included), and that none of them imports the tests' helpers (@omnidaemon/testkit). Tests outside src/ and the benchmarks may use kafkajs and pg to observe the real broker and
 * database. Import cycles are checked by scripts/check-import-cycles.js (npm run lint runs both);
 * test/lint/boundaries.test.ts shows each rule failing on a deliberate violation.
 */
const KAFKA_CLIENTS = {
  names: ["kafkajs", "@platformatic/kafka"],
  message: "the Kafka clients stay inside packages/bus-kafka: use its ports (KafkaProducer, BusAdmin, …)",
};
const POSTGRES_CLIENTS = {
  names: ["pg", "pg-pool", "pg-protocol", "drizzle-orm", "drizzle-kit"],
  message: "pg and drizzle stay inside packages/store-pg: use its repositories (PgStore)",
};
const APPS = ["@omnidaemon/coordinator", "@omnidaemon/worker"];
const APP_MESSAGE = "nothing imports an app: apps sit at the top and are started, not imported";
const TESTKIT = {
  name: "@omnidaemon/testkit",
  message:
    "@omnidaemon/testkit is the tests' shared helpers: runtime code never imports it (tests outside src/ do)",
};

/** The workspace packages each package may not import: dependencies point down (apps → … → protocol/lifecycle). */
const PACKAGES_BELOW = {
  protocol: [],
  lifecycle: [],
  "bus-kafka": ["protocol", "lifecycle"],
  "store-pg": ["protocol", "lifecycle"],
  sdk: ["protocol", "lifecycle", "bus-kafka"],
  cli: ["protocol", "lifecycle"],
  // The operator console: a browser app on the protocol's schemas and client. Only the coordinator imports it (for
  // the path of its built files).
  console: ["protocol"],
};
const WORKSPACE_PACKAGES = ["protocol", "lifecycle", "bus-kafka", "store-pg", "sdk", "cli", "console"];

/**
 * The complete `no-restricted-imports` options for one package or app (flat config replaces, never merges);
 * `browser`: code that runs in a browser, which may not import Node APIs.
 */
function restrictions(where, { browser = false } = {}) {
  const paths = [];
  const patterns = [];
  const clientRule = (clients) => {
    for (const name of clients.names) {
      paths.push({ name, message: clients.message });
      patterns.push({ group: [`${name}/*`], message: clients.message });
    }
  };
  if (where !== "bus-kafka") clientRule(KAFKA_CLIENTS);
  if (where !== "store-pg") clientRule(POSTGRES_CLIENTS);
  for (const name of APPS) paths.push({ name, message: APP_MESSAGE });
  paths.push({ name: TESTKIT.name, message: TESTKIT.message });
  patterns.push({
    group: ["**/packages/testkit", "**/packages/testkit/**", "**/testkit/src/**"],
    message: TESTKIT.message,
  });
  if (where in PACKAGES_BELOW) {
    patterns.push({ group: ["**/apps/**"], message: APP_MESSAGE });
    const allowed = PACKAGES_BELOW[/** @type {keyof typeof PACKAGES_BELOW} */ (where)];
    for (const other of WORKSPACE_PACKAGES.filter((name) => name !== where && !allowed.includes(name))) {
      paths.push({
        name: `@omnidaemon/${other}`,
        message: `packages/${where} may import ${allowed.length === 0 ? "no workspace package" : `only ${allowed.map((name) => `@omnidaemon/${name}`).join(", ")}`}: dependencies point down`,
      });
    }
  }
  if (where === "protocol") {
    patterns.push({
      group: ["node:*"],
      message: "packages/protocol is zod only, so a browser (the console) can use it: no Node APIs",
    });
  } else if (browser) {
    patterns.push({
      group: ["node:*"],
      message: `packages/${where} runs in a browser: no Node APIs (only src/index.ts, the Node side, may use them)`,
    });
  }
  return ["error", { paths, patterns }];
}

/** The console's Node side: the path of its built files, for the coordinator. Everything else is the browser app. */
const CONSOLE_NODE_ENTRY = "packages/console/src/index.ts";

const boundaries = [
  ...WORKSPACE_PACKAGES.filter((name) => name !== "console").map((name) => ({
    files: [`packages/${name}/src/**/*.ts`],
    rules: { "no-restricted-imports": restrictions(name) },
  })),
  {
    files: ["packages/console/src/**/*.{ts,tsx}"],
    ignores: [CONSOLE_NODE_ENTRY],
    rules: { "no-restricted-imports": restrictions("console", { browser: true }) },
  },
  { files: [CONSOLE_NODE_ENTRY], rules: { "no-restricted-imports": restrictions("console") } },
  ...["coordinator", "worker"].map((name) => ({
    files: [`apps/${name}/src/**/*.ts`],
    rules: { "no-restricted-imports": restrictions(name) },
  })),
];

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", ".stack/**", ".kafka/**", "coverage/**"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "error",
    },
  },
  {
    // The CLI prints for people, scripts/bench/examples are programs, and the testkit is test code.
    files: [
      "packages/cli/**",
      "scripts/**",
      "bench/**",
      "examples/**",
      "packages/testkit/**",
      "**/*.test.ts",
      "**/test/**",
    ],
    rules: { "no-console": "off" },
  },
  {
    // The console runs in a browser: its globals are the DOM's (its imports are checked with the boundaries below).
    files: ["packages/console/src/**"],
    ignores: [CONSOLE_NODE_ENTRY],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node, ...globals.jest } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  ...boundaries,
);
