// Six projects: `unit` (pure logic, next to the code), `integration` (real Kafka and Postgres, see
// test/global-setup.js), `secure` (the apps against a SASL_SSL broker and TLS Postgres: npm run test:secure, see
// test/secure/global-setup.js), `faults` (the multi-process fault suite, test/faults), `console` (the web console in a
// real browser: npm run test:console) and `deploy` (what ships: the chart, docker-compose.yml, the packed packages; run
// by scripts/check-deploy.sh, which provides helm). Workspace
// packages resolve to their TypeScript sources, so tests never need a build; so does @omnidaemon/testkit, the tests'
// shared helpers (packages/testkit, not a workspace: never built, never published).
const moduleNameMapper = {
  "^@omnidaemon/(protocol|lifecycle|bus-kafka|store-pg|sdk|cli|console|testkit)$":
    "<rootDir>/packages/$1/src/index.ts",
};
const transform = {
  // Type checking is `npm run typecheck`'s job; with `isolatedModules` in tsconfig, ts-jest only strips types.
  "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json" }],
  // The ES modules of the platformatic Kafka driver (see test/esm-to-cjs.js).
  "^.+/node_modules/@platformatic/.+\\.js$": "<rootDir>/test/esm-to-cjs.js",
};
// node_modules is not transformed, but for the ESM-only packages above.
const transformIgnorePatterns = ["/node_modules/(?!@platformatic/)"];
const common = {
  rootDir: __dirname,
  testEnvironment: "node",
  moduleNameMapper,
  transform,
  transformIgnorePatterns,
};

/** @type {import('jest').Config} */
module.exports = {
  // test/summary-reporter.js records each run's counts when OMNIDAEMON_TEST_SUMMARY names a file (.ci/run does).
  reporters: ["default", "<rootDir>/test/summary-reporter.js"],
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: [
        "<rootDir>/{apps,packages}/*/src/**/*.test.ts",
        "<rootDir>/bench/**/*.test.ts",
        // The architecture's boundaries: eslint and the import-cycle check on deliberate violations.
        "<rootDir>/test/lint/**/*.test.ts",
      ],
    },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/{apps,packages}/*/test/**/*.int.test.ts", "<rootDir>/test/**/*.int.test.ts"],
      globalSetup: "<rootDir>/test/global-setup.js",
      globalTeardown: "<rootDir>/test/global-teardown.js",
      setupFilesAfterEnv: ["<rootDir>/test/integration-timeout.js"],
    },
    {
      ...common,
      displayName: "secure",
      testMatch: ["<rootDir>/test/secure/**/*.secure.test.ts"],
      globalSetup: "<rootDir>/test/secure/global-setup.js",
      globalTeardown: "<rootDir>/test/secure/global-teardown.js",
      setupFilesAfterEnv: ["<rootDir>/test/integration-timeout.js"],
    },
    {
      // The fault suite (npm run test:faults, docs/faults.md): whole fleets of real processes on the local stack,
      // whose services it stops and restarts. Never part of `npm test`; run in band, after it.
      ...common,
      displayName: "faults",
      testMatch: ["<rootDir>/test/faults/**/*.faults.test.ts"],
      globalSetup: "<rootDir>/test/faults/global-setup.js",
      globalTeardown: "<rootDir>/test/faults/global-teardown.js",
      setupFilesAfterEnv: ["<rootDir>/test/integration-timeout.js"],
    },
    {
      // npm run test:console: the operator console in Debian's Chromium (playwright-core) against a real coordinator,
      // real workers and the real broker and Postgres (test/console/support.ts). Needs `npm run build` first.
      ...common,
      displayName: "console",
      testMatch: ["<rootDir>/test/console/**/*.console.test.ts"],
      globalSetup: "<rootDir>/test/global-setup.js",
      globalTeardown: "<rootDir>/test/global-teardown.js",
      setupFilesAfterEnv: ["<rootDir>/test/integration-timeout.js"],
    },
    {
      // npm run test:deploy (scripts/check-deploy.sh): the Helm chart's rendered objects, docker-compose.yml, a worker
      // started exactly as the chart starts it, and the user's own-project path with the packed SDK and CLI.
      ...common,
      displayName: "deploy",
      testMatch: ["<rootDir>/test/deploy/**/*.deploy.test.ts"],
      globalSetup: "<rootDir>/test/global-setup.js",
      globalTeardown: "<rootDir>/test/global-teardown.js",
      setupFilesAfterEnv: ["<rootDir>/test/integration-timeout.js"],
    },
  ],
};
