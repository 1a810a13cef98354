import { z } from "zod";
import type { OutgoingRecord } from "../producer";
import { SYSTEM_TOPICS } from "../naming";

export const AGENT_STATES = ["active", "paused", "deleted"] as const;
export type AgentState = (typeof AGENT_STATES)[number];

/** One record of the control topic: the desired state of one agent, fleet-wide. */
export const desiredStateSchema = z.object({
  topic: z.string().min(1),
  agent: z.string().min(1),
  state: z.enum(AGENT_STATES),
  /** Strictly increasing across all agents (a Postgres sequence); older revisions are ignored. */
  revision: z.number().int().nonnegative(),
  updated_at: z.string(),
  updated_by: z.string().nullish(),
});

export type DesiredState = z.output<typeof desiredStateSchema>;

export function controlKey(topic: string, agent: string): string {
  return `${topic}/${agent}`;
}

/** The control record of one agent's desired state, keyed by agent so compaction keeps the last one. */
export function desiredStateRecord(
  state: DesiredState,
  topic: string = SYSTEM_TOPICS.control,
): OutgoingRecord {
  return {
    topic,
    key: controlKey(state.topic, state.agent),
    value: Buffer.from(JSON.stringify(desiredStateSchema.parse(state))),
  };
}
