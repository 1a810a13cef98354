import {
  metricsHistorySchema,
  metricsSummarySchema,
  publishedSchema,
  taskRecordSchema,
  taskSchema,
  type ParsedRequestOf,
} from "@omnidaemon/protocol";
import { z } from "zod";
import type { PublishTaskInput, TaskService } from "../../services/types";
import { HttpError } from "../errors";
import { defineRoute, type RouteDefinition } from "../route";
import { api } from "../validation";
import { metricsHistoryView, metricsSummaryView, taskRecordView } from "../views";

/**
 * The service input for either request shape (ours, or the reference system's `payload`), camelCase: null and
 * absent both mean "not given".
 */
export function toPublishInput(body: ParsedRequestOf<"publishTaskBody">): PublishTaskInput {
  const input: PublishTaskInput = {
    topic: body.topic,
    content: body.payload !== undefined ? body.payload.content : body.content,
  };
  const webhook = body.webhook ?? body.payload?.webhook;
  const replyTo = body.reply_to ?? body.payload?.reply_to;
  if (webhook != null) input.webhook = webhook;
  if (replyTo != null) input.replyTo = replyTo;
  if (body.id !== undefined) input.id = body.id;
  if (body.key !== undefined) input.key = body.key;
  if (body.correlation_id != null) input.correlationId = body.correlation_id;
  if (body.causation_id != null) input.causationId = body.causation_id;
  if (body.tenant_id != null) input.tenantId = body.tenant_id;
  if (body.source != null) input.source = body.source;
  return input;
}

/** Tasks: publishing, the records workers report into, and the per-agent counters the same reports feed. */
export function taskRoutes(tasks: TaskService): RouteDefinition[] {
  const publish = (url: string, summary: string): RouteDefinition =>
    defineRoute({
      method: "POST",
      url,
      tag: "tasks",
      summary,
      body: api.publishTaskBody,
      response: { schema: publishedSchema },
      errors: [404, 503],
      handler: async ({ body, actor }) => {
        const published = await tasks.publishTask(toPublishInput(body), actor);
        return { task_id: published.taskId, topic: published.topic, status: "published" as const };
      },
    });
  return [
    publish("/tasks", "Publish an event; returns its task id"),
    publish("/publish-tasks", "Publish an event (the reference system's route and body shape)"),
    defineRoute({
      method: "GET",
      url: "/tasks/:id",
      tag: "tasks",
      summary: "The task's records, one per agent, until they expire",
      params: api.taskParams,
      response: { schema: taskSchema },
      errors: [404, 503],
      handler: async ({ params }) => {
        const records = await tasks.getTask(params.id);
        if (records.length === 0) {
          throw new HttpError(
            404,
            "not_found",
            `task "${params.id}" not found (unknown, or its records expired)`,
          );
        }
        return { task_id: params.id, records: records.map(taskRecordView) };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/tasks",
      tag: "tasks",
      summary: "Recent task records, newest first (of a topic, a status or a correlation id)",
      query: api.listTasksQuery,
      response: { schema: z.array(taskRecordSchema) },
      errors: [503],
      handler: async ({ query }) =>
        (
          await tasks.listTasks({
            limit: query.limit,
            ...(query.topic !== undefined && { topic: query.topic }),
            ...(query.status !== undefined && { status: query.status }),
            ...(query.correlation_id !== undefined && { correlationId: query.correlation_id }),
          })
        ).map(taskRecordView),
    }),
    defineRoute({
      method: "GET",
      url: "/metrics/summary",
      tag: "metrics",
      summary: "Lifetime counters and latency percentiles per topic and agent",
      query: api.metricsSummaryQuery,
      response: { schema: z.array(metricsSummarySchema) },
      errors: [503],
      handler: async ({ query }) =>
        (await tasks.metricsSummary(query.topic === undefined ? {} : { topic: query.topic })).map(
          metricsSummaryView,
        ),
    }),
    defineRoute({
      method: "GET",
      url: "/metrics/history",
      tag: "metrics",
      summary:
        "The agent's throughput and failures per interval over the last minutes (this coordinator's samples)",
      query: api.metricsHistoryQuery,
      response: { schema: metricsHistorySchema },
      errors: [404, 503],
      handler: async ({ query }) => metricsHistoryView(await tasks.metricsHistory(query.topic, query.agent)),
    }),
  ];
}
