import { rateHintKey, rateHintSchema, type RateHint } from "@omnidaemon/protocol";
import type { RateHold } from "../engine/limits/adaptive-rate";
import { SYSTEM_TOPICS } from "../naming";
import type { OutgoingRecord } from "../producer";

/** The rate hint a worker publishes when its throttle lowered an agent's rate (`Throttle.onRetryAfter`). */
export function rateHint(
  agent: { topic: string; agent: string },
  hold: RateHold,
  at: Date,
  workerId?: string,
): RateHint {
  return {
    kind: "rate_hint",
    topic: agent.topic,
    agent: agent.agent,
    factor: hold.factor,
    hold_until: Math.ceil(hold.holdUntil),
    retry_after_ms: Math.max(0, Math.ceil(hold.retryAfterMs)),
    issued_at: at.toISOString(),
    worker_id: workerId ?? null,
  };
}

/**
 * The control record of a rate hint, keyed apart from the agent's desired state (compaction keeps the last of
 * each): every worker following the control topic reads it within about a second.
 */
export function rateHintRecord(hint: RateHint, topic: string = SYSTEM_TOPICS.control): OutgoingRecord {
  return {
    topic,
    key: rateHintKey(hint.topic, hint.agent),
    value: Buffer.from(JSON.stringify(rateHintSchema.parse(hint))),
  };
}
