// Shared between the orchestrator (bench/main.ts) and the measured child processes (bench/lib/trial.ts).
import type { KafkaClientName } from "@omnidaemon/bus-kafka";

/** The group protocol of the bare @platformatic/kafka baselines: KIP-848 ("consumer") or the classic one. */
export type GroupProtocol = "consumer" | "classic";

/** What one measured child process runs. Serialized as JSON into the child's argv. */
export interface TrialSpec {
  /** "engine": the product's AgentConsumer. "baseline": a bare consumer of `client`'s library. */
  kind: "engine" | "baseline";
  /**
   * Engine: the bus's Kafka client (`KafkaConnection.client`, what `OMNIDAEMON_KAFKA_CLIENT` selects). Baseline: the
   * library of the bare consumer (kafkajs, or @platformatic/kafka).
   */
  client: KafkaClientName;
  /** Bare @platformatic/kafka baseline only. */
  groupProtocol?: GroupProtocol;
  /** Label for logs and the results file, e.g. "B1 engine #2". */
  label: string;
  brokers: string[];
  topic: string;
  /** Engine: the agent name (its group is omnidaemon.<topic>.<agent>). */
  agent?: string;
  /** Baseline: the consumer group id. */
  groupId?: string;
  /** Records in the topic; the trial ends when this many were handled (or at `maxMeasureMs`). */
  expected: number;
  /** How long each handler awaits (0: returns at once, synchronously). */
  handlerDelayMs: number;
  /** Engine only: AgentRuntimeConfig.concurrency. Omitted: the engine's default. */
  concurrency?: number;
  /** Engine only: AgentConsumerOptions.maxBufferedRecords. Omitted: the engine's default. */
  maxBufferedRecords?: number;
  /** Both sides commit on this interval (engine: commitIntervalMs; baseline: a timer over eachBatch offsets). */
  commitIntervalMs: number;
  /** kafkajs fetch wait, the same on both sides (the engine's default is 100). */
  maxWaitTimeMs: number;
  /**
   * Baseline only. "eachBatch-manual-commit": eachBatch, autoCommit off, the batch's last offset + 1 committed on the
   * interval (the engine's commit policy). "eachMessage": eachMessage with `partitionsConsumedConcurrently`.
   */
  baselineMode?: "eachBatch-manual-commit" | "eachMessage";
  partitionsConsumedConcurrently?: number;
  /** Baseline only: JSON.parse each record's value (what any consumer of JSON events pays at the least). */
  decodeJson?: boolean;
  /** Stop measuring this long after the first completion even if not everything was handled. */
  maxMeasureMs?: number;
  /** Hard limit for the whole trial; the child fails past it. */
  timeoutMs: number;
}

export interface TrialResult {
  label: string;
  kind: TrialSpec["kind"];
  client: KafkaClientName;
  /** Handler completions counted (unique records for the engine; messages seen for the baseline). */
  handled: number;
  /** Engine only: handler calls for a record already handled (should be 0 with one consumer). */
  duplicates: number;
  /** Consumer start (before connect) → first handler finished: connect, join, first fetch. */
  firstMs: number;
  /** Consumer start → last handler finished. */
  totalMs: number;
  /** handled / totalMs: end to end, including the group join. */
  endToEndRate: number;
  /** Records between the 10th and 90th percentile of completions / the time between them: excludes join and tail. */
  steadyRate: number;
  /** Time stop() took (drain, final commit, leave group), for information. */
  stopMs: number;
  /** Peak RSS sampled every 100 ms while measuring, in MiB. */
  peakRssMiB: number;
  /** True when measuring stopped at `maxMeasureMs` rather than after `expected` records. */
  windowed: boolean;
}

/** Messages from a child to the orchestrator over the IPC channel. */
export type TrialMessage = { type: "result"; result: TrialResult } | { type: "error"; message: string };

/** B3: one latency trial (bench/lib/latency-trial.ts): publish at `rate` for `durationMs`, record publish → start. */
export interface LatencySpec {
  kind: "engine" | "baseline";
  /** Engine: the bus's Kafka client. Baseline: the library of the bare consumer. */
  client: KafkaClientName;
  /** The client of the product's KafkaProducer that publishes the load; the same for every side of a run. */
  producerClient: KafkaClientName;
  /** Bare @platformatic/kafka baseline only. */
  groupProtocol?: GroupProtocol;
  label: string;
  brokers: string[];
  topic: string;
  agent?: string;
  groupId?: string;
  rate: number;
  durationMs: number;
  maxWaitTimeMs: number;
  /** Padding so each value is about 1 KiB, like B1. */
  pad: string;
}

export interface LatencyResult {
  label: string;
  kind: LatencySpec["kind"];
  client: KafkaClientName;
  published: number;
  lost: number;
  samples: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export type LatencyMessage = { type: "result"; result: LatencyResult } | { type: "error"; message: string };

/** The client probe (bench/lib/client-probe.ts): start the bus on `client`, report which libraries it loaded. */
export interface ProbeSpec {
  label: string;
  client: KafkaClientName;
  brokers: string[];
  topic: string;
  agent: string;
  timeoutMs: number;
}

export interface ProbeResult {
  client: KafkaClientName;
  platformaticLoaded: boolean;
  kafkajsLoaded: boolean;
}

export type ProbeMessage = { type: "result"; result: ProbeResult } | { type: "error"; message: string };
