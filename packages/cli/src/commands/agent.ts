import { summarizeLimits } from "@omnidaemon/protocol";
import { OperationError } from "../errors";
import { compactJson, formatTime, NONE, plural, truncate } from "../output/format";
import { agentsOfTopic, nameFlag, topicFlag } from "./common";
import { limits } from "./limits";
import type { ApiCommand } from "./types";

const list: ApiCommand = {
  kind: "api",
  path: ["agent", "list"],
  summary: "list the registered agents of every topic",
  description:
    "Lists every registered agent by topic, with its desired state (active or paused, fleet-wide) and the number of\n" +
    "live workers consuming it. --json prints the API's { topic: [agent, ...] }.",
  examples: ["omnidaemon agent list", "omnidaemon agent list --json | jq 'keys'"],
  async run(context) {
    const byTopic = await context.client.listAgents();
    if (context.json) return context.printJson(byTopic);
    const rows = Object.values(byTopic)
      .flat()
      .map((agent) => [
        agent.topic,
        agent.name,
        context.status(agent.state),
        agent.live_consumers,
        agent.version ?? NONE,
        truncate(agent.description || NONE, 60),
      ]);
    context.printTable(["topic", "agent", "state", "consumers", "version", "description"], rows, {
      right: [3],
      empty:
        "no agents registered (a worker registers its agents when it starts: omnidaemon worker --help)\n",
    });
  },
};

const get: ApiCommand = {
  kind: "api",
  path: ["agent", "get"],
  summary: "show one agent",
  description:
    "Shows one agent: its definition, desired state, live consumers, consumer group and dead-letter topic.",
  flags: [topicFlag(), nameFlag()],
  examples: ["omnidaemon agent get --topic file.uploaded --name file-processor"],
  async run(context) {
    const { args, client } = context;
    const agent = await client.getAgent(args.required("topic"), args.required("name"));
    if (context.json) return context.printJson(agent);
    context.printFields([
      ["topic", agent.topic],
      ["name", agent.name],
      ["state", context.status(agent.state)],
      ["live consumers", agent.live_consumers],
      ["description", agent.description || NONE],
      ["version", agent.version ?? NONE],
      ["tags", agent.tags.length > 0 ? agent.tags.join(", ") : NONE],
      ["config", compactJson(agent.config)],
      ["limits", `${summarizeLimits(agent.limits.effective)}${agent.limits.override ? " (override)" : ""}`],
      ["revision", agent.revision],
      ["consumer group", agent.consumer_group],
      ["dead-letter topic", agent.dlq_topic],
      ["registered", formatTime(agent.registered_at)],
      ["updated", formatTime(agent.updated_at)],
    ]);
  },
};

function stateChange(verb: "unsubscribe" | "resume"): ApiCommand {
  const pause = verb === "unsubscribe";
  return {
    kind: "api",
    path: ["agent", verb],
    summary: pause
      ? "pause an agent fleet-wide (its events wait in the topic)"
      : "resume a paused agent fleet-wide",
    description: pause
      ? "Pauses the agent on every worker within seconds. Its consumer group, committed offsets and dead-letter topic\n" +
        "are kept, and new events wait in the topic until `omnidaemon agent resume`."
      : "Resumes the agent on every worker; it consumes again from its committed offsets, so nothing published while\n" +
        "it was paused is lost.",
    flags: [topicFlag(), nameFlag()],
    examples: [`omnidaemon agent ${verb} --topic file.uploaded --name file-processor`],
    async run(context) {
      const { args, client } = context;
      const topic = args.required("topic");
      const name = args.required("name");
      const answer = await (pause ? client.pauseAgent(topic, name) : client.resumeAgent(topic, name));
      if (context.json) return context.printJson(answer);
      context.print(
        `${answer.topic}/${answer.agent} is now ${context.paint(answer.state)}: ${answer.message}\n`,
      );
      if (pause) context.note(`resume it with: omnidaemon agent resume --topic ${topic} --name ${name}`);
    },
  };
}

const remove: ApiCommand = {
  kind: "api",
  path: ["agent", "delete"],
  summary: "delete an agent fleet-wide (optionally its consumer group and DLQ)",
  description:
    "Deletes the agent: every worker stops consuming it within seconds. By default its consumer group (with the\n" +
    "committed offsets) and its dead-letter topic are kept; --cleanup deletes the group (delete_group) and\n" +
    "--delete-dlq the dead-letter topic, once no worker is a member of the group any more. Unlike the reference\n" +
    "system, the group is kept unless --cleanup is given.",
  flags: [
    topicFlag(),
    nameFlag(),
    { name: "cleanup", description: "also delete its consumer group and committed offsets (delete_group)" },
    { name: "delete-dlq", description: "also delete its dead-letter topic and the events in it" },
  ],
  destructive: true,
  examples: [
    "omnidaemon agent delete --topic file.uploaded --name file-processor",
    "omnidaemon agent delete --topic file.uploaded --name file-processor --cleanup --delete-dlq --yes",
  ],
  async run(context) {
    const { args, client } = context;
    const topic = args.required("topic");
    const name = args.required("name");
    const cleanup = args.flag("cleanup");
    const deleteDlq = args.flag("delete-dlq");
    if (context.asking) await client.getAgent(topic, name); // unknown agent: say so before asking
    const extras = [cleanup && "its consumer group", deleteDlq && "its dead-letter topic"].filter(Boolean);
    await context.confirm(
      `Delete agent ${topic}/${name}${extras.length > 0 ? ` with ${extras.join(" and ")}` : ""}?`,
    );
    const answer = await client.deleteAgent(topic, name, { deleteGroup: cleanup, deleteDlq });
    if (context.json) return context.printJson(answer);
    context.print(`deleted ${answer.topic}/${answer.agent}\n`);
    if (answer.cleanup_pending) {
      context.print(
        `cleanup pending: ${extras.join(" and ")} will be deleted once no worker consumes the agent any more\n`,
      );
    }
    if (!cleanup || !deleteDlq) {
      const kept = [
        !cleanup && "consumer group (--cleanup)",
        !deleteDlq && "dead-letter topic (--delete-dlq)",
      ];
      context.note(`kept: ${kept.filter(Boolean).join(", ")}`);
    }
  },
};

const deleteTopic: ApiCommand = {
  kind: "api",
  path: ["agent", "delete-topic"],
  summary: "delete every agent of a topic",
  description:
    "Deletes every agent registered on the topic, fleet-wide. Their consumer groups and dead-letter topics are\n" +
    "kept; the topic itself and its events are not touched.",
  flags: [topicFlag("the topic whose agents to delete")],
  destructive: true,
  examples: ["omnidaemon agent delete-topic --topic file.uploaded --yes"],
  async run(context) {
    const { args, client } = context;
    const topic = args.required("topic");
    if (context.asking) {
      const agents = await agentsOfTopic(context, topic);
      if (agents.length === 0)
        throw new OperationError(`no agents are registered on topic "${topic}"; nothing to delete`);
      const names = agents.map((agent) => agent.name).join(", ");
      await context.confirm(`Delete ${plural(agents.length, "agent")} of topic ${topic} (${names})?`);
    }
    const answer = await client.deleteTopic(topic);
    if (context.json) return context.printJson(answer);
    context.print(`deleted ${plural(answer.agents_deleted, "agent")} of topic ${topic}\n`);
  },
};

export const agentCommands: ApiCommand[] = [
  list,
  get,
  stateChange("unsubscribe"),
  stateChange("resume"),
  limits,
  remove,
  deleteTopic,
];
