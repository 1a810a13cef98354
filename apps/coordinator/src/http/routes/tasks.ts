import { z } from "zod";
import type { CoordinatorServices, PublishTaskInput } from "../../services/types";
import { HttpError } from "../errors";
import { defineRoute, type RouteDefinition } from "../route";
import { publishedSchema, taskRecordSchema, taskSchema } from "../responses";
import { limitQuery, shortText, topicSchema } from "../validation";

// Same bounds as the bus envelope (packages/bus-kafka/src/envelope.ts), so bad input fails here with a 400.
const optionalText = shortText(1024).nullish();
// The pattern is what /openapi.json states; it is narrower than a WHATWG URL (a host name ending in a letter, a
// port below 10000, plain path characters), so every URL it matches parses.
const WEBHOOK_PATTERN =
  /^https?:\/\/(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(?::[1-9][0-9]{0,3})?(?:\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?(?:\?[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?$/;
const webhook = z
  .url({ protocol: /^https?$/, error: "expected an http(s) URL" })
  .max(2048)
  .regex(WEBHOOK_PATTERN, "expected an http(s) URL with a host name")
  .nullish();
const replyTo = topicSchema.nullish();
const content = z.unknown().meta({ description: "Any JSON value" });

/**
 * A publish request, in either shape:
 * - ours: `{ topic, content, correlation_id?, tenant_id?, source?, webhook?, reply_to?, key?, id? }`;
 * - the reference system's `EventEnvelope`: `{ topic, payload: { content, webhook?, reply_to? }, id?,
 *   correlation_id?, causation_id?, tenant_id?, source?, created_at?, delivery_attempts? }`.
 * As in the reference system, `created_at` and `delivery_attempts` are accepted and reset by the publisher.
 */
export const publishBodySchema = z
  .object({
    topic: topicSchema,
    content: content.optional(),
    payload: z
      .object({ content, webhook, reply_to: replyTo })
      .optional()
      .meta({ description: "The reference system's shape: { content, webhook?, reply_to? }" }),
    id: shortText(256).optional().meta({ description: "Task id; a UUID by default" }),
    correlation_id: optionalText,
    causation_id: optionalText,
    tenant_id: optionalText,
    source: optionalText,
    webhook,
    reply_to: replyTo,
    key: shortText(1024).optional().meta({ description: "Kafka key; the correlation id, else the task id" }),
    created_at: z
      .number()
      .nonnegative()
      .optional()
      .meta({ description: "Ignored (reference compatibility)" }),
    delivery_attempts: z.number().int().min(1).optional().meta({ description: "Ignored" }),
  })
  // The superRefine below, stated for /openapi.json: content or payload (exactly one), and webhook / reply_to not
  // both at the top level and inside payload.
  .meta({
    oneOf: [{ required: ["content"] }, { required: ["payload"] }],
    allOf: (["webhook", "reply_to"] as const).map((key) => ({
      not: {
        required: [key, "payload"],
        properties: {
          [key]: { type: "string" },
          payload: { required: [key], properties: { [key]: { type: "string" } } },
        },
      },
    })),
  })
  .superRefine((body, ctx) => {
    const { payload } = body;
    if (payload === undefined) {
      if (body.content === undefined) {
        ctx.addIssue({ code: "custom", path: ["content"], message: "is required (or payload.content)" });
      }
      return;
    }
    if (body.content !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["content"],
        message: "give content or payload.content, not both",
      });
    }
    if (payload.content === undefined) {
      ctx.addIssue({ code: "custom", path: ["payload", "content"], message: "is required" });
    }
    for (const key of ["webhook", "reply_to"] as const) {
      if (payload[key] != null && body[key] != null) {
        ctx.addIssue({ code: "custom", path: [key], message: `give ${key} or payload.${key}, not both` });
      }
    }
  });

type PublishBody = z.output<typeof publishBodySchema>;

/**
 * The service input for either shape. `causation_id` rides along for services that read it (PublishTaskInput
 * has no such field yet; see the report to the lead).
 */
export function toPublishInput(body: PublishBody): PublishTaskInput & { causation_id?: string | null } {
  const input: PublishTaskInput & { causation_id?: string | null } = {
    topic: body.topic,
    content: body.payload !== undefined ? body.payload.content : body.content,
  };
  const webhookUrl = body.webhook ?? body.payload?.webhook;
  const replyTopic = body.reply_to ?? body.payload?.reply_to;
  if (webhookUrl != null) input.webhook = webhookUrl;
  if (replyTopic != null) input.reply_to = replyTopic;
  if (body.id !== undefined) input.id = body.id;
  if (body.key !== undefined) input.key = body.key;
  if (body.correlation_id != null) input.correlation_id = body.correlation_id;
  if (body.causation_id != null) input.causation_id = body.causation_id;
  if (body.tenant_id != null) input.tenant_id = body.tenant_id;
  if (body.source != null) input.source = body.source;
  return input;
}

const TASK_STATUSES = ["pending", "processing", "completed", "failed", "dead_lettered"] as const;

export function taskRoutes(services: CoordinatorServices): RouteDefinition[] {
  const publish = (url: string, summary: string): RouteDefinition =>
    defineRoute({
      method: "POST",
      url,
      tag: "tasks",
      summary,
      body: publishBodySchema,
      response: { schema: publishedSchema },
      errors: [404, 503],
      handler: async ({ body, actor }) => {
        const published = await services.publishTask(toPublishInput(body), actor);
        return { task_id: published.task_id, topic: published.topic, status: "published" };
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
      params: z.object({ id: shortText(256) }),
      response: { schema: taskSchema },
      errors: [404, 503],
      handler: async ({ params }) => {
        const records = await services.getTask(params.id);
        if (records.length === 0) {
          throw new HttpError(
            404,
            "not_found",
            `task "${params.id}" not found (unknown, or its records expired)`,
          );
        }
        return { task_id: params.id, records };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/tasks",
      tag: "tasks",
      summary: "Recent task records, newest first (of a topic, a status or a correlation id)",
      query: z.object({
        topic: topicSchema.optional(),
        status: z.enum(TASK_STATUSES).optional(),
        correlation_id: shortText(1024)
          .optional()
          .meta({ description: "Only the records of tasks with this correlation id" }),
        limit: limitQuery(100, 1000),
      }),
      response: { schema: z.array(taskRecordSchema) },
      errors: [503],
      handler: ({ query }) =>
        services.listTasks({
          limit: query.limit,
          ...(query.topic !== undefined && { topic: query.topic }),
          ...(query.status !== undefined && { status: query.status }),
          ...(query.correlation_id !== undefined && { correlationId: query.correlation_id }),
        }),
    }),
  ];
}
