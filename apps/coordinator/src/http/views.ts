import type {
  DlqEntry as BusDlqEntry,
  DlqReplayResult as BusDlqReplayResult,
  GroupInfo as BusGroupInfo,
  GroupLag as BusGroupLag,
} from "@omnidaemon/bus-kafka";
import {
  effectiveLimits,
  limitsOfConfig,
  type AgentLimitsAnswer,
  type AgentView,
  type AuditEntry,
  type DlqEntry,
  type DlqReplayResult,
  type DlqSummary,
  type GroupInfo,
  type GroupLag,
  type LimitsView,
  type MetricsHistory,
  type MetricsSummary,
  type TaskRecord,
  type WorkerView,
} from "@omnidaemon/protocol";
import type {
  AuditEntry as StoredAuditEntry,
  CounterSummary,
  TaskRecord as StoredTaskRecord,
} from "@omnidaemon/store-pg";
import type { AgentDlqSummary, CounterHistory, RegisteredAgent, WorkerState } from "../services/types";

/*
 * The HTTP edge: the services' records (camelCase, Dates) as the protocol's responses (snake_case, ISO times). The
 * one place a record changes case on its way out; each function is typed by the protocol, so a field renamed there
 * fails the typecheck here.
 */

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

export function agentView(agent: RegisteredAgent): AgentView {
  return {
    topic: agent.topic,
    name: agent.name,
    description: agent.description ?? "",
    version: agent.version,
    tags: agent.tags,
    config: agent.config,
    state: agent.state,
    revision: agent.revision,
    registered_at: agent.registeredAt.toISOString(),
    updated_at: agent.updatedAt.toISOString(),
    live_consumers: agent.liveConsumers,
    consumer_group: agent.consumerGroup,
    dlq_topic: agent.dlqTopic,
    limits: limitsView(agent),
  };
}

/** Where an agent's limits come from, and what workers enforce (the control record carries `effective`). */
export function limitsView(agent: Pick<RegisteredAgent, "config" | "limits">): LimitsView {
  return {
    configured: limitsOfConfig(agent.config),
    override: agent.limits,
    effective: effectiveLimits(agent.config, agent.limits),
  };
}

export function agentLimitsAnswer(agent: RegisteredAgent): AgentLimitsAnswer {
  return { topic: agent.topic, agent: agent.name, revision: agent.revision, limits: limitsView(agent) };
}

export function auditEntryView(entry: StoredAuditEntry): AuditEntry {
  return {
    id: entry.id,
    at: entry.at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    topic: entry.topic,
    agent: entry.agent,
    details: entry.details,
  };
}

export function taskRecordView(record: StoredTaskRecord): TaskRecord {
  return {
    task_id: record.taskId,
    topic: record.topic,
    // The placeholder written at publish time has no agent yet; the API shows it as "".
    agent: record.agent ?? "",
    status: record.status,
    attempts: record.attempts,
    replays: record.replays,
    result: record.result ?? null,
    last_error: record.lastError,
    correlation_id: record.correlationId,
    tenant_id: record.tenantId,
    created_at: record.createdAt.toISOString(),
    started_at: iso(record.startedAt),
    finished_at: iso(record.finishedAt),
    duration_ms: record.durationMs,
    expires_at: iso(record.expiresAt),
  };
}

export function metricsSummaryView(summary: CounterSummary): MetricsSummary {
  return {
    topic: summary.topic,
    agent: summary.agent,
    received: summary.received,
    succeeded: summary.succeeded,
    failed: summary.failed,
    retried: summary.retried,
    dead_lettered: summary.deadLettered,
    latency_ms: {
      p50: summary.latency.p50Ms,
      p95: summary.latency.p95Ms,
      p99: summary.latency.p99Ms,
      mean: summary.latency.meanMs,
      count: summary.latency.count,
    },
  };
}

export function metricsHistoryView(history: CounterHistory): MetricsHistory {
  return {
    topic: history.topic,
    agent: history.agent,
    sample_interval_ms: history.sampleIntervalMs,
    points: history.points.map((point) => ({
      at: point.at.toISOString(),
      interval_ms: point.intervalMs,
      received: point.received,
      succeeded: point.succeeded,
      failed: point.failed,
      retried: point.retried,
      dead_lettered: point.deadLettered,
    })),
  };
}

export function workerView(worker: WorkerState): WorkerView {
  return {
    id: worker.id,
    host: worker.host,
    pid: worker.pid,
    version: worker.version,
    agents: worker.agents,
    started_at: worker.startedAt.toISOString(),
    last_heartbeat: worker.lastHeartbeat.toISOString(),
    live: worker.live,
  };
}

export function groupInfoView(group: BusGroupInfo): GroupInfo {
  return {
    group_id: group.groupId,
    state: group.state,
    members: group.members.map((member) => ({
      member_id: member.memberId,
      client_id: member.clientId,
      host: member.host,
      assignments: member.assignments,
    })),
  };
}

export function groupLagView(lag: BusGroupLag): GroupLag {
  return { group_id: lag.groupId, partitions: lag.partitions, total: lag.total };
}

/** A DLQ entry; the envelope and the headers inside it are already wire-shaped and pass unchanged. */
export function dlqEntryView(entry: BusDlqEntry): DlqEntry {
  return {
    partition: entry.partition,
    offset: entry.offset,
    key: entry.key,
    ...(entry.taskId !== undefined && { task_id: entry.taskId }),
    ...(entry.envelope !== undefined && { envelope: entry.envelope }),
    raw_value: entry.rawValue,
    value_bytes: entry.valueBytes,
    ...(entry.reason !== undefined && { reason: entry.reason }),
    ...(entry.errorClass !== undefined && { error_class: entry.errorClass }),
    ...(entry.errorMessage !== undefined && { error_message: entry.errorMessage }),
    ...(entry.errorStack !== undefined && { error_stack: entry.errorStack }),
    ...(entry.attempts !== undefined && { attempts: entry.attempts }),
    ...(entry.sourceTopic !== undefined && { source_topic: entry.sourceTopic }),
    ...(entry.sourcePartition !== undefined && { source_partition: entry.sourcePartition }),
    ...(entry.sourceOffset !== undefined && { source_offset: entry.sourceOffset }),
    ...(entry.agent !== undefined && { agent: entry.agent }),
    ...(entry.consumerGroup !== undefined && { consumer_group: entry.consumerGroup }),
    ...(entry.firstFailureAt !== undefined && { first_failure_at: entry.firstFailureAt }),
    ...(entry.lastFailureAt !== undefined && { last_failure_at: entry.lastFailureAt }),
    dead_lettered_at: entry.deadLetteredAt,
    ...(entry.replayOf !== undefined && { replay_of: entry.replayOf }),
    replayed: entry.replayed,
    headers: entry.headers,
  };
}

export function dlqSummaryView(summary: AgentDlqSummary): DlqSummary {
  return {
    topic: summary.topic,
    agent: summary.agent,
    dlq_topic: summary.dlqTopic,
    entries: summary.entries,
    replayed: summary.replayed,
    error_classes: summary.errorClasses.map(({ errorClass, count }) => ({ error_class: errorClass, count })),
    reasons: summary.reasons,
    oldest_at: summary.oldestAt,
    newest_at: summary.newestAt,
  };
}

export function dlqReplayResultView(result: BusDlqReplayResult): DlqReplayResult {
  return {
    dry_run: result.dryRun,
    replayed: result.replayed.map(dlqEntryView),
    skipped: result.skipped.map(({ entry, reason }) => ({ entry: dlqEntryView(entry), reason })),
    not_found: result.notFound,
    replayed_count: result.replayedCount,
    skipped_count: result.skippedCount,
    truncated: result.truncated,
  };
}
