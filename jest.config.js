// Three projects: `unit` (pure logic, next to the code), `integration` (real Kafka and Postgres, see
// test/global-setup.js) and `secure` (the apps against a SASL_SSL broker and TLS Postgres: npm run test:secure, see
// test/secure/global-setup.js). Workspace packages resolve to their TypeScript sources, so tests never need a build.
const moduleNameMapper = {
  "^@omnidaemon/(lifecycle|bus-kafka|store-pg|sdk|cli)$": "<rootDir>/packages/$1/src/index.ts",
};
const transform = {
  // Type checking is `npm run typecheck`'s job; with `isolatedModules` in tsconfig, ts-jest only strips types.
  "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json" }],
};
const common = { rootDir: __dirname, testEnvironment: "node", moduleNameMapper, transform };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/{apps,packages}/*/src/**/*.test.ts", "<rootDir>/bench/**/*.test.ts"],
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
  ],
};
