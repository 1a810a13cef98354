// Shared helpers for integration tests in any package: import { uniqueName, kafkaBrokers } from "<root>/test/helpers".
export { uniqueName } from "./unique-name";
export { databaseUrl, kafkaBrokers, kafkaClient, kafkaConnection } from "./services";
export { PostgresProxy } from "./postgres-proxy";
export { onLocalStack, stackCommand } from "./local-stack";
