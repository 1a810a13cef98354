import { z } from "zod";

/*
 * The words the whole fleet shares: the coordinator stores and serves them, workers report them, the SDK and the
 * CLI read them. Each list is defined here once and imported everywhere else (store-pg's CHECK constraints list
 * the same values; a test there compares them).
 */

/** Desired state of an agent, fleet-wide (Postgres is the source of truth; the control topic carries it). */
export const AGENT_STATES = ["active", "paused", "deleted"] as const;
export type AgentState = (typeof AGENT_STATES)[number];

/** Status of a task record (one per task and agent): `pending → processing → completed | failed | dead_lettered`. */
export const TASK_STATUSES = ["pending", "processing", "completed", "failed", "dead_lettered"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Statuses a task record never leaves. `failed` is one failed attempt: a retry may still follow. */
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ["completed", "dead_lettered"];

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_TASK_STATUSES.includes(status);
}

/** `status` of a task event on `omnidaemon.task-events` (worker → coordinator). */
export const TASK_EVENT_STATUSES = [
  "processing",
  "completed",
  "failed",
  "retrying",
  "dead_lettered",
] as const;
export type TaskEventStatus = (typeof TASK_EVENT_STATUSES)[number];

/**
 * The record status an event stands for. `retrying` ("attempt N failed, N + 1 is scheduled") is a failed attempt
 * as far as the record goes; the retry shows up when its `processing` event arrives with attempt N + 1.
 */
export function recordStatusOf(eventStatus: TaskEventStatus): TaskStatus {
  return eventStatus === "retrying" ? "failed" : eventStatus;
}

/** What the engine decided after a failed attempt: try again, hand it to the DLQ, or drop it (DLQ disabled). */
export const FAILURE_OUTCOMES = ["retry", "dead_letter", "dropped"] as const;
export type FailureOutcome = (typeof FAILURE_OUTCOMES)[number];

/** The task event (and webhook) status of a failed attempt, by the engine's verdict. */
export function failureStatusOf(outcome: FailureOutcome): "retrying" | "dead_lettered" | "failed" {
  switch (outcome) {
    case "retry":
      return "retrying";
    case "dead_letter":
      return "dead_lettered";
    case "dropped":
      return "failed";
  }
}

/** A worker's consumer of one agent, as its heartbeat reports it. */
export const CONSUMER_STATUSES = ["running", "paused", "stopped"] as const;
export type ConsumerStatus = (typeof CONSUMER_STATUSES)[number];

/** Fleet health, computed from live heartbeats and real pings (docs/control-plane.md has the table). */
export const HEALTH_STATUSES = ["running", "stopped", "ready", "degraded", "down"] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** Operator actions the audit log records. */
export const AUDIT_ACTIONS = [
  "register",
  "pause",
  "resume",
  "delete",
  "delete_topic",
  "clear_agents",
  "dlq_replay",
  "dlq_purge",
  "set_limits",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Longest error message a task event, a task record or a webhook carries; the rest is cut. */
export const MAX_ERROR_MESSAGE_CHARS = 4096;

/** An error as the fleet reports it: its class and its message, never its stack (that stays in the DLQ). */
export const errorSummarySchema = z.object({ class: z.string(), message: z.string() });
export type ErrorSummary = z.output<typeof errorSummarySchema>;

/**
 * `{ class, message }` of anything a callback threw: an Error's name and message (cut at
 * {@link MAX_ERROR_MESSAGE_CHARS}); for a thrown non-Error, its type and its text.
 */
export function errorSummary(error: unknown): ErrorSummary {
  return error instanceof Error
    ? { class: error.name, message: error.message.slice(0, MAX_ERROR_MESSAGE_CHARS) }
    : { class: typeof error, message: String(error).slice(0, MAX_ERROR_MESSAGE_CHARS) };
}
