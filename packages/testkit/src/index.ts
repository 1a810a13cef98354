// @omnidaemon/testkit: the helpers every test suite shares (docs/development.md, "Writing integration tests").
// Test code only: runtime sources never import it (eslint's boundaries refuse it in apps/*/src and packages/*/src).
export { ROOT, CLI } from "./root";
export { databaseUrl, databaseUrlWith, kafkaBrokers, kafkaClient, kafkaConnection } from "./services";
export { newAgent, newTopic, uniqueName } from "./names";
export { StopWaiting, delay, waitFor } from "./wait";
export { connectionRefused, freePort, openSockets } from "./net";
export { memoryLogger, testLogger } from "./logs";
export {
  Proc,
  childEnv,
  runProcess,
  stopAll,
  stopWorkers,
  type Exit,
  type ProcOptions,
  type RunOptions,
  type RunResult,
} from "./processes";
export {
  onLocalStack,
  restartLocalBroker,
  stackCommand,
  startLocalBroker,
  stopLocalBroker,
} from "./local-stack";
export { http, httpRequest, type HttpAnswer, type HttpRequest } from "./http";
export { connectionsNamed, dropSchema, withPostgres } from "./postgres";
export { PostgresProxy } from "./postgres-proxy";
export {
  KafkaLeftovers,
  committedTotal,
  createTopics,
  rawKafka,
  readTopic,
  readTopicJson,
  reportTaskEvents,
  startedProducer,
  taskEvent,
  withBusAdmin,
  withProducer,
  type ReadRecord,
} from "./kafka";
export { ControlTopicReader, type SeenControlRecord } from "./control-reader";
export {
  AGENTS_FIXTURE,
  Publisher,
  Worker,
  cliProcess,
  deadCoordinatorUrl,
  fleetConnection,
  startCoordinatorProcess,
  workerSuite,
  type AgentSpec,
  type Behaviour,
  type CoordinatorProcess,
  type WorkerOptions,
} from "./fleet";
export { FixtureLog, countBy, duplicates, intervals, maxOverlap, type FixtureLine } from "./fixture-log";
