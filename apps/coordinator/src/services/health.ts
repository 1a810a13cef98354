import type { AgentState, HealthReport, HealthStatus, IngestionHealth } from "@omnidaemon/protocol";

export interface HealthInputs {
  now: Date;
  kafka: { ok: boolean; latencyMs?: number; error?: string };
  postgres: { ok: boolean; latencyMs?: number; error?: string };
  /** Registered agents (deleted ones excluded). Empty when Postgres is down. */
  agents: Array<{ topic: string; name: string; state: AgentState }>;
  /** Workers with a heartbeat inside the timeout that have not deregistered. */
  liveWorkers: Array<{
    id: string;
    host: string;
    pid: number;
    startedAt: Date;
    lastHeartbeat: Date;
    agents: Array<{ topic: string; name: string; status: string; member: boolean }>;
  }>;
  /** The task-events consumer; a stopped one degrades an otherwise healthy status. */
  ingestion?: IngestionHealth;
}

/**
 * The fleet's health, computed from live heartbeats and real pings — never from a stored flag, so a crashed worker
 * stops counting the moment its heartbeat is late. See docs/control-plane.md for the table of statuses.
 */
export function computeHealth(inputs: HealthInputs): HealthReport {
  const consumersOf = (topic: string, name: string): number =>
    inputs.liveWorkers.filter((worker) =>
      worker.agents.some((a) => a.topic === topic && a.name === name && a.status === "running"),
    ).length;
  const agents = inputs.agents.map((agent) => ({
    topic: agent.topic,
    name: agent.name,
    state: agent.state,
    live_consumers: consumersOf(agent.topic, agent.name),
  }));
  const active = agents.filter((agent) => agent.state === "active");
  const covered = active.filter((agent) => agent.live_consumers > 0).length;

  let status: HealthStatus;
  if (!inputs.kafka.ok || !inputs.postgres.ok) status = "down";
  else if (agents.length === 0) status = "ready";
  else if (inputs.liveWorkers.length === 0) status = "stopped";
  // Every agent paused on a live fleet: nothing should consume, and nothing is missing.
  else if (active.length === 0) status = "running";
  // Workers are up but no active agent has a consumer: effectively stopped.
  else if (covered === 0) status = "stopped";
  else if (covered < active.length) status = "degraded";
  else status = "running";
  // Results are not reaching Postgres: every later task would stay pending.
  if (inputs.ingestion?.running === false && status !== "down") status = "degraded";

  const oldest = inputs.liveWorkers.reduce<Date | undefined>(
    (min, worker) => (min === undefined || worker.startedAt < min ? worker.startedAt : min),
    undefined,
  );
  return {
    status,
    checked_at: inputs.now.toISOString(),
    kafka: ping(inputs.kafka),
    postgres: ping(inputs.postgres),
    agents,
    workers: inputs.liveWorkers.map((worker) => ({
      id: worker.id,
      host: worker.host,
      pid: worker.pid,
      started_at: worker.startedAt.toISOString(),
      last_heartbeat: worker.lastHeartbeat.toISOString(),
    })),
    uptime_seconds:
      oldest === undefined ? null : Math.max(0, (inputs.now.getTime() - oldest.getTime()) / 1000),
    registered_agents: agents.length,
    active_consumers: agents.reduce((sum, agent) => sum + agent.live_consumers, 0),
    ...(inputs.ingestion === undefined ? {} : { ingestion: inputs.ingestion }),
  };
}

function ping(result: { ok: boolean; latencyMs?: number; error?: string }): HealthReport["kafka"] {
  return {
    ok: result.ok,
    ...(result.latencyMs === undefined ? {} : { latency_ms: Math.round(result.latencyMs * 10) / 10 }),
    ...(result.error === undefined ? {} : { error: result.error }),
  };
}
