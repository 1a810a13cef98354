// The drizzle schema, for drizzle-kit (drizzle.config.ts) and the repositories. Tables carry no schema name: the
// Postgres schema is chosen per connection (search_path), so one set of migrations serves any schema.
export { agentRevision } from "./sequences";
export { agents, type AgentCleanupJson } from "./agents";
export { workers, type WorkerAgentJson } from "./workers";
export { tasks, type TaskErrorJson } from "./tasks";
export { agentCounters } from "./agent-counters";
export { auditLog } from "./audit-log";
