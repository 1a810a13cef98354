// Public surface of @omnidaemon/store-pg: plain TypeScript types and classes. pg and drizzle stay inside.
export { STORE_ERROR_CODES, StoreError, type StoreErrorCode } from "./errors";
export { DEFAULT_RESULT_TTL_MS, PgStore, type PgPingResult, type PgStoreOptions } from "./pg-store";
export { LeaderLock, type LeaderLockOptions } from "./leader-lock";
export { loadDatabaseEnv, safeLoadDatabaseEnv, type DatabaseSettings } from "./database-env";
export { SSL_MODES, type SslMode } from "./connection";
export { migrateDatabase, type MigrateDatabaseOptions, type MigrationOutcome } from "./migrate";
export {
  AGENT_STATES,
  type AgentCleanup,
  type AgentDefinition,
  type AgentRecord,
  type AgentState,
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
export {
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditEntry,
  type AuditListOptions,
  type AuditRepository,
  type NewAuditEntry,
} from "./repositories/audit";
export {
  TASK_EVENT_STATUSES,
  TASK_STATUSES,
  TERMINAL_TASK_STATUSES,
  isTerminal,
  recordStatusOf,
  shouldApply,
  type TaskEventStatus,
  type TaskProgress,
  type TaskStatus,
} from "./task-status";
export {
  LATENCY_BUCKET_BOUNDS_MS,
  LATENCY_BUCKET_COUNT,
  latencyBucketIndex,
  latencyPercentile,
  summarizeLatency,
  type LatencySummary,
} from "./latency-buckets";
export {
  NUL_PROBLEM,
  REPLACEMENT_CHARACTER,
  findUnstorableJson,
  toStorableJson,
  toStorableText,
  unstorableText,
  type JsonProblem,
} from "./storable-json";
