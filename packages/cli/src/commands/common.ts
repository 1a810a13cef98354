import type { AgentView } from "@omnidaemon/protocol";
import type { FlagSpec } from "../args";
import type { Context } from "./types";

export const topicFlag = (description = "the agent's topic"): FlagSpec => ({
  name: "topic",
  short: "t",
  value: "topic",
  required: true,
  description,
});

export const nameFlag = (description = "the agent's name"): FlagSpec => ({
  name: "name",
  short: "n",
  value: "name",
  required: true,
  description,
});

/** The agents registered on `topic` (GET /agents). */
export async function agentsOfTopic(context: Context, topic: string): Promise<AgentView[]> {
  const all = await context.client.listAgents();
  return all[topic] ?? [];
}
