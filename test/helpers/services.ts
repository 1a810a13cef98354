// Where the integration tests find Kafka and Postgres. test/global-setup.js resolves both before any test runs
// (env, else testcontainers, else scripts/stack.sh) and puts them in these variables.

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set. Integration tests get it from test/global-setup.js: run them through jest's ` +
        "`integration` project (npm run test:integration), or `source .stack/env` after `npm run stack -- up`.",
    );
  }
  return value;
}

/** Kafka bootstrap brokers from `OMNIDAEMON_KAFKA_BROKERS` (comma-separated `host:port`). */
export function kafkaBrokers(): string[] {
  return required("OMNIDAEMON_KAFKA_BROKERS")
    .split(",")
    .map((broker) => broker.trim())
    .filter(Boolean);
}

/** Postgres connection URL from `OMNIDAEMON_DATABASE_URL`. */
export function databaseUrl(): string {
  return required("OMNIDAEMON_DATABASE_URL");
}
