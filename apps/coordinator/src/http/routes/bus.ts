import type { DlqFilter, DlqReplayOptions } from "@omnidaemon/bus-kafka";
import {
  dlqEntrySchema,
  dlqPurgedSchema,
  dlqReplayResultSchema,
  dlqSummarySchema,
  groupInfoSchema,
  groupLagSchema,
  type ParsedRequestOf,
} from "@omnidaemon/protocol";
import { z } from "zod";
import type { BusService } from "../../services/types";
import { defineRoute, type RouteDefinition } from "../route";
import { api } from "../validation";
import { dlqEntryView, dlqReplayResultView, dlqSummaryView, groupInfoView, groupLagView } from "../views";

/** A DLQ filter as bus-kafka takes it (camelCase) from the API's (snake_case). */
export function toDlqFilter(filter: ParsedRequestOf<"dlqFilterBody">): DlqFilter {
  return {
    ...(filter.error_class !== undefined && { errorClass: filter.error_class }),
    ...(filter.reason !== undefined && { reason: filter.reason }),
    ...(filter.since !== undefined && { since: filter.since }),
    ...(filter.until !== undefined && { until: filter.until }),
    ...(filter.task_ids !== undefined && { taskIds: filter.task_ids }),
  };
}

/** A replay request as bus-kafka takes it. */
export function toReplayOptions(body: ParsedRequestOf<"dlqReplayBody">): DlqReplayOptions {
  return {
    ...(body.all === true && { all: true }),
    ...(body.ids !== undefined && { ids: body.ids }),
    ...(body.offsets !== undefined && { offsets: body.offsets }),
    ...(body.filter !== undefined && { filter: toDlqFilter(body.filter) }),
    dryRun: body.dry_run ?? false,
    force: body.force ?? false,
  };
}

/** Bus inspection: the fleet's consumer groups, an agent's lag, and its dead-letter queue. */
export function busRoutes(bus: BusService): RouteDefinition[] {
  return [
    defineRoute({
      method: "GET",
      url: "/bus/groups",
      tag: "bus",
      summary: "Consumer groups of the fleet, with their members",
      query: api.groupsQuery,
      response: { schema: z.array(groupInfoSchema) },
      errors: [503],
      handler: async ({ query }) =>
        (await bus.busGroups(query.stream === undefined ? {} : { stream: query.stream })).map(groupInfoView),
    }),
    defineRoute({
      method: "GET",
      url: "/bus/lag",
      tag: "bus",
      summary: "Lag of the agent's consumer group per partition",
      query: api.agentQuery,
      response: { schema: groupLagSchema },
      errors: [404, 503],
      handler: async ({ query }) => groupLagView(await bus.busLag(query.topic, query.agent)),
    }),
    defineRoute({
      method: "GET",
      url: "/bus/dlq",
      tag: "bus",
      summary: "Dead-lettered events of the agent, oldest first",
      query: api.dlqListQuery,
      response: { schema: z.array(dlqEntrySchema) },
      errors: [404, 503],
      handler: async ({ query }) => {
        const filter = toDlqFilter({
          ...(query.error_class !== undefined && { error_class: query.error_class }),
          ...(query.reason !== undefined && { reason: query.reason }),
        });
        const entries = await bus.dlqList(query.topic, query.agent, {
          limit: query.limit,
          ...(Object.keys(filter).length > 0 && { filter }),
        });
        return entries.map(dlqEntryView);
      },
    }),
    defineRoute({
      method: "GET",
      url: "/bus/dlq/summary",
      tag: "bus",
      summary: "How many entries the agent's DLQ holds, how many were replayed, by error class and reason",
      query: api.agentQuery,
      response: { schema: dlqSummarySchema },
      errors: [404, 503],
      handler: async ({ query }) => dlqSummaryView(await bus.dlqSummary(query.topic, query.agent)),
    }),
    defineRoute({
      method: "POST",
      url: "/bus/dlq/replay",
      tag: "bus",
      summary: "Replay dead-lettered events to the agent (all, by task id, by offset or by filter)",
      body: api.dlqReplayBody,
      response: { schema: dlqReplayResultSchema },
      errors: [404, 409, 503],
      handler: async ({ body, actor }) =>
        dlqReplayResultView(await bus.dlqReplay(body.topic, body.agent, toReplayOptions(body), actor)),
    }),
    defineRoute({
      method: "POST",
      url: "/bus/dlq/purge",
      tag: "bus",
      summary: "Delete every dead-lettered event of the agent",
      body: api.dlqPurgeBody,
      response: { schema: dlqPurgedSchema },
      errors: [404, 503],
      handler: ({ body, actor }) => bus.dlqPurge(body.topic, body.agent, actor),
    }),
  ];
}
