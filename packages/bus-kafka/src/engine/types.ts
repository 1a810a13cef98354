import type { ErrorSummary, FailureOutcome } from "@omnidaemon/protocol";
import type { Logger } from "pino";
import type { Envelope, NewEnvelope } from "../envelope";
import type { OutgoingRecord } from "../producer";

/** Per-delivery context handed to the agent callback next to the envelope. */
export interface DeliveryContext {
  /** Fires on the deadline (`reclaimIdleMs`), when the partition is revoked, and on forced shutdown. */
  readonly signal: AbortSignal;
  /** 1 for the first delivery, 2 for the first retry, … */
  readonly attempt: number;
  /** Child logger carrying task, correlation and agent ids. */
  readonly logger: Logger;
  /** A fresh temporary directory for this delivery, created on first use and removed afterwards. */
  readonly workdir: string;
  readonly agent: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Publishes a follow-up event; correlation and tenant are inherited, causation is this task. Returns its id. */
  publish(event: NewEnvelope): Promise<string>;
}

export type AgentHandler = (envelope: Envelope, ctx: DeliveryContext) => Promise<unknown> | unknown;

/** Where a record came from, for provenance and metrics. */
export interface RecordOrigin {
  topic: string;
  partition: number;
  offset: string;
}

export type DeadLetterReason = "invalid_record" | "non_retriable" | "retries_exhausted";

/** Which agent gave up on a dead letter, and why. */
export interface DeadLetterMeta {
  topic: string;
  agent: string;
  reason: DeadLetterReason;
}

/**
 * Where the engine hands its dead letters: the worker's DLQ manager (`DlqManager.deadLetter`), or, when the consumer
 * is given none, its publisher. One write per call; the engine retries a rejected call until it is acknowledged
 * (or the partition is revoked), so a record is done only once its dead letter is in Kafka.
 */
export interface DeadLetterSink {
  /** Resolves once the broker acknowledged the record (acks=all); rejects like `Publisher.send`. */
  deadLetter(record: OutgoingRecord, meta: DeadLetterMeta): Promise<void>;
}

/** What the engine reports. Every method is optional and must not throw (failures are logged and ignored). */
export interface EngineObserver {
  /** A record was taken from Kafka (main or retry topic). */
  onReceived?(event: { agent: string; topic: string; retry: boolean }): void;
  /**
   * An attempt started. `replays`: times the event was replayed from the DLQ (absent or 0: never); attempts count
   * from 1 again after each replay.
   */
  onStarted?(event: { envelope: Envelope; attempt: number; replays?: number; agent: string }): void;
  onSucceeded?(event: {
    envelope: Envelope;
    attempt: number;
    replays?: number;
    agent: string;
    durationMs: number;
    result: unknown;
  }): void;
  onFailed?(event: {
    envelope: Envelope;
    attempt: number;
    replays?: number;
    agent: string;
    durationMs: number;
    error: unknown;
    /** `{ class, message }` of the error, as task events and webhooks report it (the failure policy's). */
    summary: ErrorSummary;
    /** What happens next: another attempt, the DLQ, or (with the DLQ disabled) nothing. */
    outcome: FailureOutcome;
  }): void;
  onDeadLettered?(event: {
    agent: string;
    topic: string;
    reason: DeadLetterReason;
    envelope?: Envelope;
  }): void;
  onInFlight?(event: { agent: string; topic: string; inFlight: number }): void;
  onLag?(event: { agent: string; topic: string; partition: number; lag: number }): void;
  onRebalance?(event: { agent: string; topic: string; assigned: number }): void;
  onCommitted?(event: { agent: string; topic: string; partitions: number }): void;
  /**
   * An aborted callback (deadline, revocation, forced shutdown) ignored its signal and was still running
   * `abortGraceMs` after the abort: its key and concurrency slot were released anyway.
   */
  onCallbackAbandoned?(event: {
    agent: string;
    topic: string;
    taskId: string;
    attempt: number;
    abortGraceMs: number;
  }): void;
}

export type { AgentRuntimeConfig } from "./agent-config";
