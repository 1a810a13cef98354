import type {
  AgentRecord,
  AuditAction,
  PgStore,
  TaskRecord,
  WorkerAgentStatus as StoredAgentStatus,
  WorkerRecord,
} from "@omnidaemon/store-pg";
import type { AgentRow, ControlPlaneStore, TaskRow, WorkerRow } from "./services/store-port";
import type { WorkerAgentStatus } from "./services/types";

/** Maps `@omnidaemon/store-pg` (camelCase records) onto the services' port (API-shaped where it reaches the API). */
export function storeAdapter(store: PgStore): ControlPlaneStore {
  return {
    ping: () => store.ping(),
    agents: {
      upsert: async (def) => agentRow(await store.agents.upsert(def)),
      get: async (topic, name) => {
        const record = await store.agents.get(topic, name);
        return record && agentRow(record);
      },
      // Deleted agents included: the services filter them where the API hides them, and the control reconciler
      // must see them to republish a delete that never reached the control topic.
      list: async () => (await store.agents.list({ includeDeleted: true })).map(agentRow),
      setState: async (topic, name, state, cleanup) => {
        const record = await store.agents.setState(topic, name, state, cleanup ? { cleanup } : {});
        return record && agentRow(record);
      },
      listPendingCleanups: async () => (await store.agents.listPendingCleanups()).map(agentRow),
      completeCleanup: async (topic, name) => void (await store.agents.completeCleanup(topic, name)),
    },
    workers: {
      register: async (worker) =>
        void (await store.workers.register({ ...worker, agents: worker.agents.map(storedStatus) })),
      heartbeat: (id, agents) => store.workers.heartbeat(id, agents.map(storedStatus)),
      deregister: async (id) => void (await store.workers.deregister(id)),
      listLive: async (withinMs) => (await store.workers.listLive(withinMs)).map(workerRow),
      list: async () =>
        (await store.workers.list()).map((w) => ({ ...workerRow(w), stoppedAt: w.stoppedAt })),
      purgeStopped: (olderThanMs) => store.workers.purgeStopped(olderThanMs),
    },
    tasks: {
      createPending: async (task) => void (await store.tasks.createPending(task)),
      applyEvents: async (events, ttlMs) => void (await store.tasks.applyEvents(events, { ttlMs })),
      get: async (taskId) => (await store.tasks.get(taskId)).map(taskRow),
      list: async (options) =>
        (
          await store.tasks.list({
            limit: options.limit,
            ...(options.topic === undefined ? {} : { topic: options.topic }),
            ...(options.status === undefined ? {} : { status: options.status as TaskRecord["status"] }),
            ...(options.correlationId === undefined ? {} : { correlationId: options.correlationId }),
          })
        ).map(taskRow),
      deleteExpired: (now) => store.tasks.deleteExpired(now),
    },
    counters: {
      apply: (topic, agent, delta) => store.counters.apply(topic, agent, delta),
      summary: async (options) =>
        (await store.counters.summary(options)).map((c) => ({
          topic: c.topic,
          agent: c.agent,
          received: c.received,
          succeeded: c.succeeded,
          failed: c.failed,
          retried: c.retried,
          deadLettered: c.deadLettered,
          latency: {
            p50: c.latency.p50Ms,
            p95: c.latency.p95Ms,
            p99: c.latency.p99Ms,
            mean: c.latency.meanMs,
            count: c.latency.count,
          },
        })),
    },
    audit: {
      record: async (entry) =>
        void (await store.audit.record({ ...entry, action: entry.action as AuditAction })),
      list: async (options) =>
        (await store.audit.list(options)).map((e) => ({
          id: e.id,
          at: e.at.toISOString(),
          actor: e.actor,
          action: e.action,
          topic: e.topic,
          agent: e.agent,
          details: e.details,
        })),
    },
  };
}

function agentRow(record: AgentRecord): AgentRow {
  return {
    topic: record.topic,
    name: record.name,
    description: record.description ?? "",
    version: record.version,
    tags: record.tags,
    config: record.config,
    state: record.state,
    revision: record.revision,
    cleanup: record.cleanup,
    registeredAt: record.registeredAt,
    updatedAt: record.updatedAt,
  };
}

function storedStatus(status: WorkerAgentStatus): StoredAgentStatus {
  return {
    topic: status.topic,
    name: status.name,
    status: status.status,
    member: status.member,
    assignedPartitions: status.assigned_partitions,
    inFlight: status.in_flight,
  };
}

function apiStatus(status: StoredAgentStatus): WorkerAgentStatus {
  return {
    topic: status.topic,
    name: status.name,
    status: status.status as WorkerAgentStatus["status"],
    member: status.member,
    assigned_partitions: status.assignedPartitions,
    in_flight: status.inFlight,
  };
}

function workerRow(worker: WorkerRecord): WorkerRow {
  return {
    id: worker.id,
    host: worker.host,
    pid: worker.pid,
    version: worker.version,
    agents: worker.agents.map(apiStatus),
    startedAt: worker.startedAt,
    lastHeartbeat: worker.lastHeartbeat,
  };
}

function taskRow(record: TaskRecord): TaskRow {
  return {
    taskId: record.taskId,
    topic: record.topic,
    agent: record.agent ?? "",
    status: record.status,
    attempts: record.attempts,
    result: record.result,
    lastError: record.lastError,
    correlationId: record.correlationId,
    tenantId: record.tenantId,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    durationMs: record.durationMs,
    expiresAt: record.expiresAt,
  };
}
