import { UsageError, OperationError, EXIT } from "../errors";
import { positiveInt } from "../args";
import { formatTime, NONE, plural, truncate } from "../output/format";
import type { Style } from "../output/colour";
import type { Cell } from "../output/table";
import { agentsOfTopic, nameFlag, topicFlag } from "./common";
import type { DlqEntry, DlqReplayRequest } from "@omnidaemon/protocol";
import type { ApiCommand, Context } from "./types";

/** Replays and purges read the whole DLQ; give them longer than a plain request. */
const LONG_TIMEOUT_MS = 120_000;

/** Kafka's group states: Stable is consuming, Empty has no member, Dead is gone, the rest are rebalancing. */
function groupStateStyle(state: string): Style {
  if (state === "Stable") return "green";
  if (state === "Dead") return "red";
  return "yellow";
}

const groups: ApiCommand = {
  kind: "api",
  path: ["bus", "groups"],
  summary: "consumer groups of the fleet, with their members",
  description:
    "Lists the fleet's Kafka consumer groups (one per agent: omnidaemon.<topic>.<agent>), their state and members\n" +
    "with the partitions assigned to each. --stream keeps the groups consuming that topic.",
  flags: [
    {
      name: "stream",
      short: "s",
      value: "topic",
      description: "only the groups of the agents of this topic",
    },
  ],
  examples: ["omnidaemon bus groups", "omnidaemon bus groups --stream file.uploaded"],
  async run(context) {
    const stream = context.args.string("stream");
    const list = await context.client.busGroups(stream === undefined ? {} : { stream });
    if (context.json) return context.printJson(list);
    const rows: Cell[][] = [];
    for (const group of list) {
      const stateCell: Cell = { text: group.state, style: groupStateStyle(group.state) };
      if (group.members.length === 0) rows.push([group.group_id, stateCell, NONE, NONE, NONE]);
      for (const member of group.members) {
        const assigned = Object.entries(member.assignments)
          .map(([topic, partitions]) => `${topic}[${partitions.join(",")}]`)
          .join(" ");
        rows.push([group.group_id, stateCell, member.client_id, member.host, assigned || NONE]);
      }
    }
    context.printTable(["group", "state", "member", "host", "partitions"], rows, {
      empty: stream === undefined ? "no consumer groups\n" : `no consumer groups for topic ${stream}\n`,
    });
  },
};

const lag: ApiCommand = {
  kind: "api",
  path: ["bus", "lag"],
  summary: "consumer lag of an agent per partition",
  description:
    "Shows how many events the agent's consumer group has not consumed yet, per partition of its topic and of its\n" +
    "retry topic, from committed offsets (so it works while the agent is paused).",
  flags: [topicFlag(), nameFlag()],
  examples: ["omnidaemon bus lag --topic file.uploaded --name file-processor"],
  async run(context) {
    const { args } = context;
    const answer = await context.client.busLag({
      topic: args.required("topic"),
      agent: args.required("name"),
    });
    if (context.json) return context.printJson(answer);
    context.printTable(
      ["topic", "partition", "committed", "end", "lag"],
      answer.partitions.map((p) => [p.topic, p.partition, p.committed ?? NONE, p.high, p.lag]),
      { right: [1, 2, 3, 4], empty: "no partitions (the agent's topics do not exist)\n" },
    );
    context.print(`total lag ${answer.total} (group ${answer.group_id})\n`);
  },
};

function entryRow(entry: DlqEntry): Cell[] {
  const error = entry.error_class
    ? `${entry.error_class}${entry.error_message ? `: ${entry.error_message}` : ""}`
    : (entry.error_message ?? NONE);
  return [
    `${entry.partition}:${entry.offset}`,
    entry.task_id ?? NONE,
    entry.reason ?? NONE,
    truncate(error, 60),
    entry.attempts ?? NONE,
    formatTime(entry.dead_lettered_at),
    entry.replayed ? "yes" : "no",
  ];
}

const ENTRY_HEADERS = ["entry", "task id", "reason", "error", "attempts", "dead-lettered", "replayed"];

const dlq: ApiCommand = {
  kind: "api",
  path: ["bus", "dlq"],
  summary: "dead-lettered events of an agent, or of every agent of a topic",
  description:
    "Lists the events in the agent's dead-letter topic, oldest first: entry (partition:offset), task id, why it was\n" +
    "dead-lettered, the last error, attempts, when, and whether it was replayed already. Without --name, lists the\n" +
    "DLQ of every agent of the topic (--json then prints { agent: [entry, ...] }).",
  flags: [
    topicFlag(),
    {
      name: "name",
      short: "n",
      value: "name",
      description: "the agent's name (default: every agent of the topic)",
    },
    { name: "limit", value: "n", description: "at most this many entries per agent (default 100)" },
  ],
  examples: [
    "omnidaemon bus dlq --topic file.uploaded",
    "omnidaemon bus dlq --topic file.uploaded --name file-processor --limit 10 --json",
  ],
  validate(args) {
    positiveInt(args.string("limit"), "limit", 10_000);
  },
  async run(context) {
    const { args, client } = context;
    const topic = args.required("topic");
    const limit = positiveInt(args.string("limit"), "limit", 10_000);
    const name = args.string("name");
    const names =
      name !== undefined ? [name] : (await agentsOfTopic(context, topic)).map((agent) => agent.name);
    if (names.length === 0) {
      throw new OperationError(
        `no agents are registered on topic "${topic}", so there is no DLQ to show (omnidaemon agent list shows them)`,
      );
    }
    const byAgent: Record<string, DlqEntry[]> = {};
    for (const agent of names) {
      byAgent[agent] = await client.dlqList({ topic, agent, limit });
    }
    if (context.json) return context.printJson(name !== undefined ? byAgent[name] : byAgent);
    if (name !== undefined) {
      const entries = byAgent[name] ?? [];
      return context.printTable(ENTRY_HEADERS, entries.map(entryRow), {
        right: [4],
        empty: `the DLQ of ${topic}/${name} is empty\n`,
      });
    }
    const rows = Object.entries(byAgent).flatMap(([agent, entries]) =>
      entries.map((entry) => [agent, ...entryRow(entry)]),
    );
    context.printTable(["agent", ...ENTRY_HEADERS], rows, {
      right: [5],
      empty: `the DLQs of the ${plural(names.length, "agent")} of topic ${topic} are empty\n`,
    });
  },
};

/** The replay request's selector: all, ids or filter (exactly one). */
type ReplaySelector = Pick<DlqReplayRequest, "all" | "ids" | "filter">;

function replaySelector(context: Pick<Context, "args">): { body: ReplaySelector; describe: string } {
  const { args } = context;
  const ids = args.strings("id");
  const errorClass = args.string("error-class");
  const given = [
    args.flag("all") && "--all",
    ids.length > 0 && "--id",
    errorClass !== undefined && "--error-class",
  ].filter((x): x is string => typeof x === "string");
  if (given.length !== 1) {
    throw new UsageError(
      given.length === 0
        ? "say what to replay: --all, --id <id>... or --error-class <class>"
        : `give only one of --all, --id or --error-class, got ${given.join(" and ")}`,
    );
  }
  if (args.flag("all")) return { body: { all: true }, describe: "every event" };
  if (ids.length > 0) return { body: { ids }, describe: plural(ids.length, "event") };
  return {
    body: { filter: { error_class: errorClass } },
    describe: `the events that failed with ${errorClass}`,
  };
}

const replay: ApiCommand = {
  kind: "api",
  path: ["bus", "dlq", "replay"],
  summary: "replay dead-lettered events to their agent",
  description:
    "Publishes dead-lettered events again, to the agent's retry topic, so the agent processes them once more. Say\n" +
    "which: --all, --id <task id>... (repeatable), or --error-class <class> (the error's class, e.g. TypeError).\n" +
    "Events replayed before are skipped unless --force. --dry-run shows what would be replayed and changes\n" +
    "nothing (and needs no confirmation). Exits 1 when a requested --id is not in the DLQ.",
  synopsis:
    "--topic <topic> --name <name> (--all | --id <id>... | --error-class <class>) [--dry-run] [--force] [--json] [--yes]",
  flags: [
    topicFlag(),
    nameFlag(),
    { name: "all", description: "replay every event in the DLQ" },
    {
      name: "id",
      value: "id",
      multiple: true,
      description: "replay the event with this task id (repeatable)",
    },
    { name: "error-class", value: "class", description: "replay the events whose last error has this class" },
    { name: "dry-run", description: "show what would be replayed; publish nothing" },
    { name: "force", description: "replay events that were replayed before, too" },
  ],
  destructive: (args) => !args.flag("dry-run"),
  examples: [
    "omnidaemon bus dlq replay --topic file.uploaded --name file-processor --all --dry-run",
    "omnidaemon bus dlq replay --topic file.uploaded --name file-processor --id 5f0c2e --id 9a1b7d --yes",
    "omnidaemon bus dlq replay --topic file.uploaded --name file-processor --error-class TimeoutError --yes",
  ],
  validate(args) {
    replaySelector({ args });
  },
  async run(context) {
    const { args, client } = context;
    const topic = args.required("topic");
    const agent = args.required("name");
    const dryRun = args.flag("dry-run");
    const selector = replaySelector(context);
    if (context.asking) await client.dlqList({ topic, agent, limit: 1 }); // unknown agent first
    await context.confirm(`Replay ${selector.describe} of the DLQ of ${topic}/${agent} to the agent?`);
    const result = await client.dlqReplay(
      { topic, agent, ...selector.body, dry_run: dryRun, force: args.flag("force") },
      { timeoutMs: LONG_TIMEOUT_MS },
    );
    const code = result.not_found.length > 0 ? EXIT.failed : EXIT.ok;
    if (context.json) {
      context.printJson(result);
      return code;
    }
    const verb = result.dry_run ? "would replay" : "replayed";
    const replayedCount = result.replayed_count ?? result.replayed.length;
    const skippedCount = result.skipped_count ?? result.skipped.length;
    context.print(
      `${result.dry_run ? "dry run: " : ""}${verb} ${plural(replayedCount, "event")} of ${topic}/${agent}` +
        `${skippedCount > 0 ? `, skipped ${skippedCount}` : ""}\n`,
    );
    if (result.replayed.length > 0) {
      context.print("\n");
      context.printTable(ENTRY_HEADERS, result.replayed.map(entryRow), { right: [4] });
    }
    if (result.skipped.length > 0) {
      context.print("\n");
      context.printTable(
        ["skipped", "task id", "why"],
        result.skipped.map(({ entry, reason }) => [
          `${entry.partition}:${entry.offset}`,
          entry.task_id ?? NONE,
          reason,
        ]),
      );
      if (result.skipped.some(({ reason }) => /replayed/.test(reason)) && !args.flag("force")) {
        context.note("events replayed before are skipped; --force replays them again");
      }
    }
    if (result.truncated === true)
      context.note("the tables show the first entries only; the counts above cover all");
    if (result.not_found.length > 0) context.note(`not in the DLQ: ${result.not_found.join(", ")}`);
    return code;
  },
};

const purge: ApiCommand = {
  kind: "api",
  path: ["bus", "dlq", "purge"],
  summary: "delete every dead-lettered event of an agent",
  description: "Deletes every event in the agent's dead-letter topic. This cannot be undone.",
  flags: [topicFlag(), nameFlag()],
  destructive: true,
  examples: ["omnidaemon bus dlq purge --topic file.uploaded --name file-processor --yes"],
  async run(context) {
    const { args, client } = context;
    const topic = args.required("topic");
    const agent = args.required("name");
    if (context.asking) await client.dlqList({ topic, agent, limit: 1 });
    await context.confirm(`Delete every dead-lettered event of ${topic}/${agent}? This cannot be undone.`);
    const answer = await client.dlqPurge({ topic, agent }, { timeoutMs: LONG_TIMEOUT_MS });
    if (context.json) return context.printJson(answer);
    context.print(`deleted ${plural(answer.deleted, "dead-lettered event")} of ${topic}/${agent}\n`);
  },
};

export const busCommands: ApiCommand[] = [groups, lag, dlq, replay, purge];
