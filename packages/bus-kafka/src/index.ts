// Public surface of @omnidaemon/bus-kafka. kafkajs types never appear here: the client can be swapped. The wire
// records (envelope, control records, task events) are @omnidaemon/protocol's; this package reads and writes them.
export { BUS_ERROR_CODES, BusError, type BusErrorCode } from "./errors";
export {
  DeadlineExceededError,
  NonRetriableError,
  ReplyRejectedError,
  ResultNotJsonError,
  RetryAfterError,
  isNonRetriable,
  retryAfterMsOf,
} from "./handler-errors";
export {
  DEFAULT_KAFKA_CLIENT,
  KAFKA_CLIENTS,
  kafkaConnectionSchema,
  parseKafkaConnection,
  type KafkaConnection,
  type KafkaConnectionInput,
  type KafkaClientName,
} from "./config";
export {
  SASL_MECHANISMS,
  loadKafkaEnv,
  redactKafkaConnection,
  safeLoadKafkaEnv,
  type KafkaEnvSettings,
  type SaslMechanism,
} from "./connection-env";
export { explainConnectError } from "./connect-errors";
export {
  DEFAULT_MAX_ENVELOPE_BYTES,
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  keyOf,
  parseEnvelope,
  type NewEnvelope,
} from "./envelope";
export { HEADER, decodeHeaders, type RecordHeaders } from "./headers";
export { MAX_JSON_DEPTH, findNonJson } from "./json-value";
export {
  RESERVED_PREFIX,
  agentNames,
  defaultAgentName,
  validateAgentName,
  validateTopic,
  TOPIC_PATTERN,
  AGENT_NAME_PATTERN,
  type AgentNames,
} from "./naming";
export { KafkaProducer, type KafkaProducerOptions, type OutgoingRecord, type Publisher } from "./producer";
export {
  agentRuntimeConfigSchema,
  parseAgentRuntimeConfig,
  type AgentRuntimeConfig,
  type AgentRuntimeConfigInput,
} from "./engine/agent-config";
export { AgentConsumer, type AgentConsumerOptions, type AgentConsumerStatus } from "./engine/agent-consumer";
export type {
  AgentHandler,
  DeadLetterMeta,
  DeadLetterReason,
  DeadLetterSink,
  DeliveryContext,
  EngineObserver,
  RecordOrigin,
} from "./engine/types";
export {
  BusAdmin,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_TOPIC_PARTITIONS,
  type AgentTopics,
  type BusAdminOptions,
  type GroupInfo,
  type GroupLag,
  type GroupMember,
  type PartitionLag,
  type PingResult,
  type TopicOffsets,
} from "./admin";
export {
  DLQ_READER_GROUP_PREFIX,
  DlqManager,
  type DlqDepth,
  type DlqEntry,
  type DlqFilter,
  type DlqListOptions,
  type DlqManagerOptions,
  type DlqReplayOptions,
  type DlqReplayResult,
  type DlqSummary,
} from "./dlq-manager";
export { dlqFilterSchema } from "./dlq/filter";
export { COORDINATOR_GROUP, SYSTEM_TOPICS } from "./naming";
export { desiredStateRecord } from "./control/desired-state";
export { rateHint, rateHintRecord } from "./control/rate-hint";
export { decodeControlRecord } from "./control/control-record";
export { ADMITTED, Throttle, type ThrottleOptions, type ThrottleReadings } from "./engine/limits/throttle";
export { FairScheduler, type AdmissionGate, type FairSchedulerOptions } from "./engine/limits/fair-scheduler";
export {
  ADAPTIVE_RATE_DEFAULTS,
  type AdaptiveRateOptions,
  type RateHold,
} from "./engine/limits/adaptive-rate";
export { applyControlRecord, holdOfHint, type ControlApplied } from "./engine/limits/apply-control";
export { ControlFollower, type ControlFollowerOptions } from "./control/control-follower";
export { taskEventRecord } from "./task-events";
export {
  RecordConsumer,
  type ConsumedRecord,
  type RecordConsumerOptions,
  type RecordConsumerStatus,
} from "./record-consumer";
