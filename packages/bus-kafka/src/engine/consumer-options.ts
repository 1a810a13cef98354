import type { Logger } from "pino";
import type { KafkaConnectionInput } from "../config";
import type { Publisher } from "../producer";
import type { AgentRuntimeConfigInput } from "./agent-config";
import type { AgentHandler, DeadLetterSink, EngineObserver } from "./types";

export interface AgentConsumerOptions {
  connection: KafkaConnectionInput;
  topic: string;
  agent: string;
  handler: AgentHandler;
  /** Used for retries, `reply_to` and `ctx.publish` (and dead letters without `deadLetters`). Started and stopped by its owner. */
  publisher: Publisher;
  /**
   * Where dead letters go: the worker's DLQ manager. Started and stopped by its owner; its writes must work for as
   * long as this consumer drains. @default the publisher
   */
  deadLetters?: DeadLetterSink;
  config?: AgentRuntimeConfigInput;
  logger?: Logger;
  observer?: EngineObserver;
  /** Start without consuming (the agent is paused fleet-wide). @default false */
  startPaused?: boolean;
  /** Group session timeout: a worker that stops heartbeating loses its partitions after this. @default 30000 */
  sessionTimeoutMs?: number;
  /** @default 3000 */
  heartbeatIntervalMs?: number;
  /** How often completed offsets are committed (one request for all partitions). @default 1000 */
  commitIntervalMs?: number;
  /** How long stop() and pause() wait for in-flight deliveries before aborting them. @default 30000 */
  drainTimeoutMs?: number;
  /**
   * Records held in memory before fetching pauses (back-pressure). Keep it above one fetch response (kafkajs
   * brings up to ~1,000 records per partition): below that, every fetch pauses the consumer, and kafkajs drops and
   * re-fetches responses for paused partitions. @default max(10000, 4 × concurrency)
   */
  maxBufferedRecords?: number;
  /** Longest wait of a fetch on an idle topic; bounds publish → start latency. @default 100 */
  maxWaitTimeMs?: number;
  /**
   * After a delivery is aborted (deadline, revocation, forced shutdown), how long its key, its concurrency slot and
   * its workdir wait for a callback that ignores its signal to settle. Past it the key and the slot are released
   * anyway, with a warning and `onCallbackAbandoned`. Overrides the agent config's `abortGraceMs`.
   * @default config.abortGraceMs (30000)
   */
  abortGraceMs?: number;
  /**
   * How many partitions the agent's topic and retry topic have together (the admin's metadata): a worker's share of
   * the fleet-wide limits is the share of them it owns (docs/rate-limits.md). Read when consuming starts and again
   * when an assignment holds more than it said. @default the partitions this consumer owns (a fleet of one)
   */
  countPartitions?: (topics: string[]) => Promise<number>;
  /** Named in the rate hints this consumer publishes. */
  workerId?: string;
}

export type Phase = "idle" | "starting" | "running" | "draining" | "stopped";

export interface AgentConsumerStatus {
  phase: Phase;
  paused: boolean;
  /** Joined the group and holds an assignment (possibly empty). */
  member: boolean;
  assignedPartitions: number;
  inFlight: number;
  /** Records waiting to start. */
  buffered: number;
  /**
   * Retry partitions parked until their head record is due (not "stuck": liveness ignores them). Not-yet-due
   * retries stay in Kafka, not in memory.
   */
  delayed: number;
  /** Epoch ms of the last fetch response (proves the poll loop is alive). */
  lastFetchAt: number | undefined;
  /** Epoch ms of the last completed delivery. */
  lastCompletionAt: number | undefined;
  /** Deliveries this worker may run at once under the fleet-wide `maxInFlight`; undefined: no such limit. */
  inFlightLimit?: number | undefined;
  /** This worker's share of the agent's partitions, which sets its share of the fleet-wide limits. */
  limitsShare?: number;
}
