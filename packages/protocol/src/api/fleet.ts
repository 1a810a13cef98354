import { z } from "zod";
import { AGENT_STATES, CONSUMER_STATUSES, HEALTH_STATUSES } from "../vocabulary";
import { isoTime, nameFields, shortText, type DomainRules } from "./fields";

/*
 * Fleet health: the workers' protocol (register, heartbeat, deregister), the fleet's health and the probes.
 */

/** One agent as a worker's heartbeat reports it. */
export const workerAgentStatusSchema = z.object({
  topic: z.string(),
  name: z.string(),
  /** The worker's consumer for the agent: running, paused (desired state), stopped. */
  status: z.enum(CONSUMER_STATUSES),
  member: z.boolean(),
  assigned_partitions: z.number().int().nonnegative(),
  in_flight: z.number().int().nonnegative(),
});
export type WorkerAgentStatus = z.output<typeof workerAgentStatusSchema>;

/** A worker as `GET /v1/workers` lists it. */
export const workerViewSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  version: z.string(),
  agents: z.array(workerAgentStatusSchema),
  started_at: isoTime,
  last_heartbeat: isoTime,
  live: z.boolean(),
});
export type WorkerView = z.output<typeof workerViewSchema>;

export const workerRegisteredSchema = z.object({ heartbeat_interval_ms: z.number().int() });
export type WorkerRegistered = z.output<typeof workerRegisteredSchema>;

/** `known: false` asks the worker to register again (the coordinator lost it). */
export const heartbeatAnswerSchema = z.object({ known: z.boolean() });
export type HeartbeatAnswer = z.output<typeof heartbeatAnswerSchema>;

export const workerDeregisteredSchema = z.object({ status: z.literal("deregistered"), id: z.string() });
export type WorkerDeregistered = z.output<typeof workerDeregisteredSchema>;

/** A dependency's ping, as `/health` and `/readyz` show it. */
export const probeSchema = z.object({
  ok: z.boolean(),
  latency_ms: z.number().optional(),
  error: z.string().optional(),
});
export type Probe = z.output<typeof probeSchema>;

/** Result ingestion (the task-events consumer). */
export const ingestionHealthSchema = z.object({
  /** The task-events consumer is consuming; false between a crash and its restart (status is then degraded). */
  running: z.boolean(),
  /** Task events not yet folded into Postgres, over every partition; null when Kafka did not answer. */
  lag: z.number().int().nullable(),
  /** Times the consumer was rebuilt after the Kafka client gave up. */
  restarts: z.number().int(),
  last_error: z.string().optional(),
});
export type IngestionHealth = z.output<typeof ingestionHealthSchema>;

/** `GET /health`: 200 unless down, 503 when down (with this body either way). */
export const healthReportSchema = z.object({
  status: z.enum(HEALTH_STATUSES),
  checked_at: isoTime,
  kafka: probeSchema,
  postgres: probeSchema,
  agents: z.array(
    z.object({
      topic: z.string(),
      name: z.string(),
      state: z.enum(AGENT_STATES),
      live_consumers: z.number().int(),
    }),
  ),
  workers: z.array(
    z.object({
      id: z.string(),
      host: z.string(),
      pid: z.number().int(),
      started_at: isoTime,
      last_heartbeat: isoTime,
    }),
  ),
  /** Seconds since the oldest live worker started; null with no live worker. */
  uptime_seconds: z.number().nullable(),
  registered_agents: z.number().int(),
  active_consumers: z.number().int(),
  /** Absent where the coordinator runs without a task-events consumer (tests). */
  ingestion: ingestionHealthSchema.optional(),
});
export type HealthReport = z.output<typeof healthReportSchema>;

export const livezSchema = z.object({ status: z.literal("ok") });

export const readyzSchema = z.object({ status: z.enum(["ready", "not_ready"]), postgres: probeSchema });
export type Readiness = z.output<typeof readyzSchema>;

/** Worker ids are chosen by the worker (`<host>-<pid>-<random>`); any URL-safe text, bounded. */
const workerId = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits, ".", "_", ":" and "-"');

/** The fleet requests under `rules` (see {@link DomainRules}). */
export function fleetRequests(rules: DomainRules) {
  const { topic, agentName } = nameFields(rules);
  const agentStatuses = z
    .array(workerAgentStatusSchema.extend({ topic: topic(), name: agentName() }))
    .max(10_000);
  return {
    workerParams: z.object({ id: workerId }),
    /** `POST /v1/workers`. */
    registerWorkerBody: z.object({
      id: workerId,
      host: shortText(255),
      // Postgres `integer`; Linux pids stay far below (pid_max is at most 2^22).
      pid: z.number().int().nonnegative().max(2_147_483_647),
      version: shortText(64),
      agents: agentStatuses,
    }),
    /** `PUT /v1/workers/{id}/heartbeat`. */
    heartbeatBody: z.object({ agents: agentStatuses }),
  };
}
