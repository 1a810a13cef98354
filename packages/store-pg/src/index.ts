// Public surface of @omnidaemon/store-pg: plain TypeScript types and classes. pg and drizzle stay inside.
export { STORE_ERROR_CODES, StoreError, type StoreErrorCode } from "./errors";
export { DEFAULT_RESULT_TTL_MS, PgStore, type PgPingResult, type PgStoreOptions } from "./pg-store";
export { LeaderLock, type LeaderLockOptions } from "./leader-lock";
export { loadDatabaseEnv, safeLoadDatabaseEnv, type DatabaseSettings } from "./database-env";
export { SSL_MODES, type SslMode } from "./connection";
export { migrateDatabase, type MigrateDatabaseOptions, type MigrationOutcome } from "./migrate";
export {
  type AgentCleanup,
  type AgentDefinition,
  type AgentRecord,
  type AgentsRepository,
} from "./repositories/agents";
export type {
  WorkerAgentStatus,
  WorkerRecord,
  WorkerRegistration,
  WorkersRepository,
} from "./repositories/workers";
export type {
  NewPendingTask,
  TaskError,
  TaskEvent,
  TaskListOptions,
  TaskRecord,
  TasksRepository,
} from "./repositories/tasks";
export type { CounterDelta, CounterSummary, CountersRepository } from "./repositories/counters";
export type { AuditEntry, AuditListOptions, AuditRepository, NewAuditEntry } from "./repositories/audit";
// The task and agent vocabulary (statuses, states, audit actions) is @omnidaemon/protocol's; what is the store's
// own is the rule that never moves a task record back.
export { shouldApply, type TaskProgress } from "./task-status";
export {
  LATENCY_BUCKET_BOUNDS_MS,
  LATENCY_BUCKET_COUNT,
  latencyBucketIndex,
  latencyPercentile,
  summarizeLatency,
  type LatencySummary,
} from "./latency-buckets";
export {
  REPLACEMENT_CHARACTER,
  findUnstorableJson,
  toStorableJson,
  toStorableText,
  unstorableText,
  type JsonProblem,
} from "./storable-json";
