import { z } from "zod";
import { AGENT_STATES } from "../vocabulary";

/** One record of the compacted control topic: the desired state of one agent, fleet-wide. */
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

/** The key of an agent's control record (compaction keeps the last record per key), and of agent maps. */
export function controlKey(topic: string, agent: string): string {
  return `${topic}/${agent}`;
}
