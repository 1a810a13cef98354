import type { DlqFilter, DlqReplayOptions } from "@omnidaemon/bus-kafka";
import { z } from "zod";
import type { CoordinatorServices } from "../../services/types";
import { dlqSummarySchema } from "../responses";
import { defineRoute, type RouteDefinition } from "../route";
import { agentNameSchema, limitQuery, shortText, topicSchema } from "../validation";

const TIME_MESSAGE = "expected epoch milliseconds or an ISO 8601 date-time";
const epochMs = z
  .union([z.number().int().nonnegative(), z.iso.datetime({ offset: true, error: TIME_MESSAGE })], {
    error: TIME_MESSAGE,
  })
  .transform((value) => (typeof value === "number" ? value : Date.parse(value)));

/**
 * A DLQ filter, snake_case like the rest of the API. Strict: a misspelt criterion is refused rather than
 * ignored, because an ignored criterion widens a replay.
 */
export const dlqFilterBodySchema = z
  .strictObject({
    error_class: shortText(256).optional().meta({ description: 'Exact error class, e.g. "TypeError"' }),
    reason: shortText(64)
      .optional()
      .meta({ description: "invalid_record, non_retriable or retries_exhausted" }),
    since: epochMs.optional().meta({ description: "Last failure at or after (epoch ms or ISO time)" }),
    until: epochMs.optional().meta({ description: "Last failure before (epoch ms or ISO time)" }),
    task_ids: z.array(shortText(256)).min(1).max(10_000).optional(),
  })
  // A window with until at or before since is empty and matches nothing (refusing it is a rule the OpenAPI
  // document could not state).
  .meta({ minProperties: 1 });

export function toDlqFilter(filter: z.output<typeof dlqFilterBodySchema>): DlqFilter {
  return {
    ...(filter.error_class !== undefined && { errorClass: filter.error_class }),
    ...(filter.reason !== undefined && { reason: filter.reason }),
    ...(filter.since !== undefined && { since: filter.since }),
    ...(filter.until !== undefined && { until: filter.until }),
    ...(filter.task_ids !== undefined && { taskIds: filter.task_ids }),
  };
}

const SELECTORS = ["all", "ids", "offsets", "filter"] as const;

/** `POST /bus/dlq/replay`. Strict, so `dryrun` (a typo of dry_run) is refused instead of replaying for real. */
export const dlqReplayBodySchema = z
  .strictObject({
    topic: topicSchema,
    agent: agentNameSchema,
    all: z.boolean().optional().meta({ description: "Replay every entry" }),
    ids: z.array(shortText(256)).min(1).max(10_000).optional().meta({ description: "Task ids" }),
    offsets: z
      .array(
        z.strictObject({
          partition: z.number().int().nonnegative(),
          offset: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)], {
            error: "expected a non-negative integer (number or decimal string)",
          }),
        }),
      )
      .min(1)
      .max(10_000)
      .optional()
      .meta({ description: "DLQ records by partition and offset" }),
    filter: dlqFilterBodySchema.optional(),
    dry_run: z.boolean().optional().meta({ description: "Report what would be replayed; publish nothing" }),
    force: z.boolean().optional().meta({ description: "Replay entries that were replayed before, too" }),
  })
  // The superRefine below, stated for /openapi.json: exactly one selector.
  .meta({
    oneOf: [
      { required: ["all"], properties: { all: { const: true } } },
      { required: ["ids"] },
      { required: ["offsets"] },
      { required: ["filter"] },
    ],
  })
  .superRefine((body, ctx) => {
    const given = SELECTORS.filter((key) => (key === "all" ? body.all === true : body[key] !== undefined));
    if (given.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["all"],
        message: "a replay needs exactly one of all: true, ids, offsets or filter",
      });
    } else if (given.length > 1) {
      ctx.addIssue({
        code: "custom",
        path: [given[1] as string],
        message: `give exactly one of all, ids, offsets or filter; got ${given.join(" and ")}`,
      });
    }
    if (body.filter !== undefined && Object.values(body.filter).every((value) => value === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["filter"],
        message: "is empty; to replay everything send all: true",
      });
    }
  });

export function toReplayOptions(body: z.output<typeof dlqReplayBodySchema>): DlqReplayOptions {
  return {
    ...(body.all === true && { all: true }),
    ...(body.ids !== undefined && { ids: body.ids }),
    ...(body.offsets !== undefined && { offsets: body.offsets }),
    ...(body.filter !== undefined && { filter: toDlqFilter(body.filter) }),
    dryRun: body.dry_run ?? false,
    force: body.force ?? false,
  };
}

const agentQuery = z.object({ topic: topicSchema, agent: agentNameSchema });

export function busRoutes(services: CoordinatorServices): RouteDefinition[] {
  return [
    defineRoute({
      method: "GET",
      url: "/bus/groups",
      tag: "bus",
      summary: "Consumer groups of the fleet, with their members",
      query: z.object({
        stream: shortText(249).optional().meta({ description: "Only groups consuming this topic" }),
      }),
      errors: [503],
      handler: ({ query }) => services.busGroups(query.stream === undefined ? {} : { stream: query.stream }),
    }),
    defineRoute({
      method: "GET",
      url: "/bus/lag",
      tag: "bus",
      summary: "Lag of the agent's consumer group per partition",
      query: agentQuery,
      errors: [404, 503],
      handler: ({ query }) => services.busLag(query.topic, query.agent),
    }),
    defineRoute({
      method: "GET",
      url: "/bus/dlq",
      tag: "bus",
      summary: "Dead-lettered events of the agent, oldest first",
      query: agentQuery.extend({
        limit: limitQuery(100, 10_000),
        error_class: shortText(256).optional(),
        reason: shortText(64).optional(),
      }),
      errors: [404, 503],
      handler: ({ query }) => {
        const filter = toDlqFilter({
          ...(query.error_class !== undefined && { error_class: query.error_class }),
          ...(query.reason !== undefined && { reason: query.reason }),
        });
        return services.dlqList(query.topic, query.agent, {
          limit: query.limit,
          ...(Object.keys(filter).length > 0 && { filter }),
        });
      },
    }),
    defineRoute({
      method: "GET",
      url: "/bus/dlq/summary",
      tag: "bus",
      summary: "How many entries the agent's DLQ holds, how many were replayed, by error class and reason",
      query: agentQuery,
      response: { schema: dlqSummarySchema },
      errors: [404, 503],
      handler: ({ query }) => services.dlqSummary(query.topic, query.agent),
    }),
    defineRoute({
      method: "POST",
      url: "/bus/dlq/replay",
      tag: "bus",
      summary: "Replay dead-lettered events to the agent (all, by task id, by offset or by filter)",
      body: dlqReplayBodySchema,
      errors: [404, 409, 503],
      handler: ({ body, actor }) => services.dlqReplay(body.topic, body.agent, toReplayOptions(body), actor),
    }),
    defineRoute({
      method: "POST",
      url: "/bus/dlq/purge",
      tag: "bus",
      summary: "Delete every dead-lettered event of the agent",
      body: z.strictObject({ topic: topicSchema, agent: agentNameSchema }),
      errors: [404, 503],
      handler: ({ body, actor }) => services.dlqPurge(body.topic, body.agent, actor),
    }),
  ];
}
