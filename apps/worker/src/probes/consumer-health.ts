import type { AgentConsumerStatus } from "@omnidaemon/bus-kafka";

/** What a probe knows about one agent consumer at one instant. */
export interface ConsumerSnapshot {
  agent: string;
  topic: string;
  status: AgentConsumerStatus;
  /**
   * Epoch ms the probe first saw this consumer running (since it last started). Stands in for `lastFetchAt`
   * before the first fetch. See {@link ConsumerProgressTracker}.
   */
  runningSince?: number;
  /**
   * Epoch ms since which the probe has seen pending work without interruption. Without it, an agent resumed after
   * a long pause, with a backlog, would look stalled since its last completion before the pause.
   */
  pendingSince?: number;
}

export const PROBE_PROBLEMS = ["stalled", "poll_loop_dead", "not_member", "not_running"] as const;
export type ProbeProblemCode = (typeof PROBE_PROBLEMS)[number];

export interface ProbeProblem {
  agent: string;
  topic: string;
  problem: ProbeProblemCode;
  message: string;
}

export interface ProbeVerdict {
  ok: boolean;
  /** Empty when ok. */
  problems: ProbeProblem[];
}

export interface LivenessOptions {
  /**
   * Pending work with no completed delivery for this long means the consumer is stuck. Deliveries are aborted at
   * `reclaimIdleMs`, so a healthy consumer completes something well within 2 × reclaimIdleMs (plus the retry
   * backoff, since retries waiting for their time count as pending).
   */
  stallAfterMs: number;
  /**
   * A running consumer whose poll loop has not returned a fetch for this long is dead. kafkajs stops fetching
   * during a rebalance for up to the rebalance timeout (60 s), so this must be comfortably longer. @default 120000
   */
  pollStallMs?: number;
}

export const DEFAULT_POLL_STALL_MS = 120_000;

/**
 * Liveness: false only when restarting the process would help — a running consumer that holds work but finishes
 * none, or whose poll loop has stopped. Paused, idle and draining consumers are live: they are not meant to make
 * progress. A worker with no agents is live.
 */
export function liveness(
  consumers: readonly ConsumerSnapshot[],
  now: number,
  options: LivenessOptions,
): ProbeVerdict {
  const pollStallMs = options.pollStallMs ?? DEFAULT_POLL_STALL_MS;
  const problems: ProbeProblem[] = [];
  for (const consumer of consumers) {
    const { status } = consumer;
    if (status.phase !== "running") continue;
    const name = `agent ${consumer.agent} (topic ${consumer.topic})`;

    const pending = status.inFlight + status.buffered;
    const progressAt = latest(status.lastCompletionAt, consumer.pendingSince);
    if (pending > 0 && progressAt !== undefined && now - progressAt > options.stallAfterMs) {
      problems.push({
        agent: consumer.agent,
        topic: consumer.topic,
        problem: "stalled",
        message:
          `${name} has ${pending} events pending (${status.inFlight} in flight) and completed none ` +
          `for ${seconds(now - progressAt)} s (limit ${seconds(options.stallAfterMs)} s)`,
      });
      continue;
    }

    const polledAt = latest(status.lastFetchAt, consumer.runningSince);
    if (polledAt !== undefined && now - polledAt > pollStallMs) {
      problems.push({
        agent: consumer.agent,
        topic: consumer.topic,
        problem: "poll_loop_dead",
        message:
          `${name} is running but has not fetched from Kafka for ${seconds(now - polledAt)} s ` +
          `(limit ${seconds(pollStallMs)} s)`,
      });
    }
  }
  return { ok: problems.length === 0, problems };
}

/**
 * Readiness: every agent that should be consuming (not paused) is running and a member of its consumer group.
 * Paused agents never block readiness; a worker with no agents is ready. Membership drops during a rebalance, so
 * readiness dips briefly then; that is the signal a rollout should wait on.
 */
export function readiness(consumers: readonly ConsumerSnapshot[]): ProbeVerdict {
  const problems: ProbeProblem[] = [];
  for (const consumer of consumers) {
    const { status } = consumer;
    if (status.paused) continue;
    const name = `agent ${consumer.agent} (topic ${consumer.topic})`;
    if (status.phase !== "running") {
      problems.push({
        agent: consumer.agent,
        topic: consumer.topic,
        problem: "not_running",
        message: `${name} is ${status.phase}, not running`,
      });
    } else if (!status.member) {
      problems.push({
        agent: consumer.agent,
        topic: consumer.topic,
        problem: "not_member",
        message: `${name} is not a member of its consumer group (joining or rebalancing)`,
      });
    }
  }
  return { ok: problems.length === 0, problems };
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
