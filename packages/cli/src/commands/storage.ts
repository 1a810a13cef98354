import { plural } from "../output/format";
import type { ApiCommand } from "./types";

const clearAgents: ApiCommand = {
  kind: "api",
  path: ["storage", "clear-agents"],
  summary: "delete every agent of every topic",
  description:
    "Deletes every registered agent of every topic, fleet-wide (workers stop consuming them within seconds).\n" +
    "Consumer groups, dead-letter topics, task records and metrics are kept.",
  destructive: true,
  examples: ["omnidaemon storage clear-agents --yes"],
  async run(context) {
    const { client } = context;
    if (context.asking) {
      const byTopic = await client.listAgents();
      const topics = Object.keys(byTopic).length;
      const agents = Object.values(byTopic).flat().length;
      await context.confirm(
        `Delete every agent (${plural(agents, "agent")} on ${plural(topics, "topic")}), fleet-wide?`,
      );
    }
    const answer = await client.clearAgents();
    if (context.json) return context.printJson(answer);
    context.print(`cleared: deleted ${plural(answer.agents_deleted, "agent")}\n`);
  },
};

export const storageCommands: ApiCommand[] = [clearAgents];
