import type { FlagSpec } from "../args";
import type { Context } from "./types";
import { segment } from "../http";

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

export const agentPath = (topic: string, name: string): string =>
  `/agents/${segment(topic)}/${segment(name)}`;

/** The API's agent as far as the CLI reads it (GET /agents, GET /agents/{topic}/{name}). */
export interface AgentView {
  topic: string;
  name: string;
  description: string;
  version: string | null;
  tags: string[];
  config: Record<string, unknown>;
  state: string;
  revision: number;
  registered_at: string;
  updated_at: string;
  live_consumers: number;
  consumer_group: string;
  dlq_topic: string;
}

export type AgentsByTopic = Record<string, AgentView[]>;

/** Names of the agents registered on `topic` (GET /agents). */
export async function agentsOfTopic(context: Context, topic: string): Promise<AgentView[]> {
  const all = await context.client.get<AgentsByTopic>("/agents");
  return all[topic] ?? [];
}
