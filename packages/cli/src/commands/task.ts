import { sleep } from "@omnidaemon/lifecycle";
import {
  formatAttempts,
  CoordinatorApiError,
  isTerminal,
  TASK_STATUSES,
  type TaskRecord,
  type TaskView,
} from "@omnidaemon/protocol";
import { oneOf, positiveInt, type ParsedArgs } from "../args";
import { EXIT, OperationError, UsageError } from "../errors";
import { formatMs, formatTime, NONE, truncate } from "../output/format";
import { agentsOfTopic, topicFlag } from "./common";
import type { ApiCommand, Context } from "./types";

const DEFAULT_WAIT_MS = 60_000;

/**
 * Whether a published task is done: some agent reported, every record is terminal (completed or dead_lettered),
 * and every agent expected to process it (the topic's active agents at publish time) has a record.
 */
export function taskSettled(records: readonly TaskRecord[], expectedAgents: readonly string[]): boolean {
  const reported = records.filter((record) => record.agent !== "");
  if (reported.length === 0 || reported.length !== records.length) return false;
  if (!reported.every((record) => isTerminal(record.status))) return false;
  const agents = new Set(reported.map((record) => record.agent));
  return expectedAgents.every((agent) => agents.has(agent));
}

function parseContent(args: ParsedArgs): unknown {
  const raw = args.required("content");
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw new UsageError(
      `--content is not valid JSON (${(error as Error).message}); quote it for the shell, e.g. ` +
        `--content '{"file":"a.pdf"}' or --content '"plain text"'`,
    );
  }
}

function printTask(context: Context, task: TaskView): void {
  const topic = task.records[0]?.topic ?? NONE;
  context.print(`task ${task.task_id} on ${topic}\n\n`);
  context.printTable(
    ["agent", "status", "attempts", "duration", "finished", "correlation id"],
    task.records.map((record) => [
      record.agent || "(no agent yet)",
      context.status(record.status),
      formatAttempts(record),
      formatMs(record.duration_ms),
      formatTime(record.finished_at),
      record.correlation_id ?? NONE,
    ]),
    { right: [2, 3] },
  );
  for (const record of task.records) {
    const who = record.agent || "(no agent yet)";
    if (record.status === "completed") {
      context.print(`\nresult of ${who}:\n${JSON.stringify(record.result, null, 2)}\n`);
    } else if (record.last_error !== null) {
      context.print(`\nlast error of ${who}: ${record.last_error.class}: ${record.last_error.message}\n`);
    }
  }
}

const publish: ApiCommand = {
  kind: "api",
  path: ["task", "publish"],
  summary: "publish an event to a topic (optionally wait for its result)",
  description:
    "Publishes an event whose content is the JSON given in --content; every agent of the topic gets it. A topic\n" +
    "with no agent yet is created, so the event waits for one. Prints the task id. --wait then polls the task\n" +
    "until every active agent of the topic has finished it (completed or dead_lettered) and prints the records;\n" +
    "it exits 1 when one is dead_lettered or when --timeout-ms passes first. --json prints the API's\n" +
    "{ task_id, topic, status }, or with --wait the task { task_id, records }.",
  flags: [
    topicFlag("the topic to publish to"),
    { name: "content", value: "json", required: true, description: "the event's content, as JSON" },
    { name: "correlation-id", value: "id", description: "correlation id (also the Kafka key, for ordering)" },
    { name: "tenant-id", value: "id", description: "tenant id" },
    { name: "reply-to", value: "topic", description: "publish the result as a new event on this topic" },
    { name: "webhook", value: "url", description: "POST the outcome to this http(s) URL" },
    { name: "wait", description: "wait for the result and print it" },
    {
      name: "timeout-ms",
      value: "ms",
      description: `with --wait: give up after this long (default ${DEFAULT_WAIT_MS})`,
    },
  ],
  examples: [
    `omnidaemon task publish --topic file.uploaded --content '{"file":"report.pdf"}'`,
    `omnidaemon task publish --topic file.uploaded --content '{"file":"report.pdf"}' --wait --timeout-ms 30000`,
  ],
  validate(args) {
    parseContent(args);
    if (args.has("timeout-ms") && !args.flag("wait")) throw new UsageError("--timeout-ms needs --wait");
    positiveInt(args.string("timeout-ms"), "timeout-ms");
  },
  async run(context) {
    const { args, client } = context;
    const topic = args.required("topic");
    const body = {
      topic,
      content: parseContent(args),
      correlation_id: args.string("correlation-id"),
      tenant_id: args.string("tenant-id"),
      reply_to: args.string("reply-to"),
      webhook: args.string("webhook"),
    };
    const published = await client.publishTask(body);
    if (!args.flag("wait")) {
      if (context.json) return context.printJson(published);
      context.print(`published task ${published.task_id} to ${published.topic}\n`);
      return;
    }
    const timeoutMs = positiveInt(args.string("timeout-ms"), "timeout-ms") ?? DEFAULT_WAIT_MS;
    if (!context.json)
      context.note(
        `published task ${published.task_id}; waiting up to ${formatMs(timeoutMs)} for its result`,
      );
    const expected = (await agentsOfTopic(context, topic).catch(() => []))
      .filter((agent) => agent.state === "active")
      .map((agent) => agent.name);
    const { task, settled } = await waitForTask(context, published.task_id, expected, timeoutMs);
    if (context.json) context.printJson(task);
    else printTask(context, task);
    if (!settled) {
      const statuses = [...new Set(task.records.map((record) => record.status))].join(", ") || "unknown";
      throw new OperationError(
        `task ${task.task_id} is still ${statuses} after ${formatMs(timeoutMs)}` +
          (expected.length === 0 ? ` (no active agent on topic "${topic}" yet)` : "") +
          `; omnidaemon task result ${task.task_id} shows it later`,
      );
    }
    return task.records.some((record) => record.status !== "completed") ? EXIT.failed : EXIT.ok;
  },
};

async function waitForTask(
  context: Context,
  taskId: string,
  expected: readonly string[],
  timeoutMs: number,
): Promise<{ task: TaskView; settled: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let interval = 200;
  let task: TaskView = { task_id: taskId, records: [] };
  for (;;) {
    try {
      task = await context.client.getTask(taskId);
    } catch (error) {
      if (!(error instanceof CoordinatorApiError && error.status === 404)) throw error;
    }
    if (taskSettled(task.records, expected)) return { task, settled: true };
    const left = deadline - Date.now();
    if (left <= 0) return { task, settled: false };
    await sleep(Math.min(interval, left));
    interval = Math.min(1_000, interval * 1.5);
  }
}

const result: ApiCommand = {
  kind: "api",
  path: ["task", "result"],
  summary: "show a task's status and result, per agent",
  description:
    "Shows a task's records, one per agent that processed it (fan-out): status, attempts, duration, and the result\n" +
    "or the last error. Records expire with the results TTL (24 h by default); an unknown or expired task exits 1.",
  positionals: [{ name: "id", description: "the task id that task publish printed" }],
  flags: [
    {
      name: "task-id",
      value: "id",
      hidden: true,
      description: "the task id (the reference system's spelling)",
    },
  ],
  synopsis: "<id> [--json]",
  examples: ["omnidaemon task result 0b6e4c1e-3f7a-4c55-9a51-6f0d2f3b8a10"],
  validate(args) {
    const id = args.positionals[0] ?? args.string("task-id");
    if (id === undefined) throw new UsageError("missing argument <id> (the task id)");
    if (args.positionals[0] !== undefined && args.has("task-id")) {
      throw new UsageError("give the task id once: as <id> or as --task-id");
    }
  },
  async run(context) {
    const id = (context.args.positionals[0] ?? context.args.string("task-id")) as string;
    const task = await context.client.getTask(id);
    if (context.json) return context.printJson(task);
    printTask(context, task);
  },
};

const list: ApiCommand = {
  kind: "api",
  path: ["task", "list"],
  summary: "recent task records, newest first",
  description:
    "Lists recent task records (one per task and agent), newest first, optionally of one topic or status.",
  flags: [
    { name: "topic", short: "t", value: "topic", description: "only this topic" },
    { name: "status", value: "status", description: `only this status: ${TASK_STATUSES.join(", ")}` },
    { name: "limit", short: "n", value: "n", description: "at most this many (default 100, at most 1000)" },
  ],
  examples: [
    "omnidaemon task list",
    "omnidaemon task list --topic file.uploaded --status dead_lettered --limit 20",
  ],
  validate(args) {
    oneOf(args.string("status"), "status", TASK_STATUSES);
    positiveInt(args.string("limit"), "limit", 1000);
  },
  async run(context) {
    const { args } = context;
    const records = await context.client.listTasks({
      topic: args.string("topic"),
      status: oneOf(args.string("status"), "status", TASK_STATUSES),
      limit: args.string("limit"),
    });
    if (context.json) return context.printJson(records);
    context.printTable(
      ["task id", "topic", "agent", "status", "attempts", "duration", "created", "error"],
      records.map((record) => [
        record.task_id,
        record.topic,
        record.agent || NONE,
        context.status(record.status),
        formatAttempts(record),
        formatMs(record.duration_ms),
        formatTime(record.created_at),
        record.last_error === null
          ? NONE
          : truncate(`${record.last_error.class}: ${record.last_error.message}`, 50),
      ]),
      { right: [4, 5], empty: "no tasks\n" },
    );
  },
};

export const taskCommands: ApiCommand[] = [publish, result, list];
