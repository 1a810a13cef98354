// Where the tests find Kafka and Postgres. test/global-setup.js resolves both before any test runs (env, else
// testcontainers, else scripts/stack.sh) and puts them in the variables read here.
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, type KafkaClientName } from "@omnidaemon/bus-kafka";

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

/**
 * The Kafka client the suites run on: `OMNIDAEMON_KAFKA_CLIENT` (kafkajs or platformatic), as the apps read it, so
 * one suite runs on either driver (.ci/run runs the matrix). Unset is the product's default.
 */
export function kafkaClient(): KafkaClientName {
  const value = (process.env.OMNIDAEMON_KAFKA_CLIENT ?? DEFAULT_KAFKA_CLIENT).toLowerCase();
  const client = KAFKA_CLIENTS.find((candidate) => candidate === value);
  if (client === undefined) {
    throw new Error(`OMNIDAEMON_KAFKA_CLIENT must be one of ${KAFKA_CLIENTS.join(", ")}, got ${value}`);
  }
  return client;
}

/** How an in-process test reaches the test broker: its brokers, on the suite's Kafka client. */
export function kafkaConnection(clientId = "omnidaemon-test"): {
  client: KafkaClientName;
  brokers: string[];
  clientId: string;
} {
  return { client: kafkaClient(), brokers: kafkaBrokers(), clientId };
}

/** Postgres connection URL from `OMNIDAEMON_DATABASE_URL`. */
export function databaseUrl(): string {
  return required("OMNIDAEMON_DATABASE_URL");
}

/** The test database URL with extra query parameters (pg lets the URL's parameters win over the client config). */
export function databaseUrlWith(params: Record<string, string>, base = databaseUrl()): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}
