import { z } from "zod";
import { envelopeSchema } from "../wire/envelope";
import { limitQuery, nameFields, shortText, type DomainRules } from "./fields";

/*
 * Bus inspection: consumer groups, lag, and each agent's dead-letter queue (list, replay, purge).
 */

export const groupMemberSchema = z.object({
  member_id: z.string(),
  client_id: z.string(),
  host: z.string(),
  /** topic → partitions currently assigned to this member (empty while the group rebalances). */
  assignments: z.record(z.string(), z.array(z.number().int())),
});

/** A consumer group of the fleet (`GET /bus/groups`). */
export const groupInfoSchema = z.object({
  group_id: z.string(),
  /** Broker-reported state: Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, … */
  state: z.string(),
  members: z.array(groupMemberSchema),
});
export type GroupInfo = z.output<typeof groupInfoSchema>;

export const partitionLagSchema = z.object({
  topic: z.string(),
  partition: z.number().int(),
  /** Next offset the group will read; null when the group never committed on this partition. */
  committed: z.string().nullable(),
  /** Log end offset (high watermark). */
  high: z.string(),
  /** Records not yet consumed by the group. */
  lag: z.number(),
});

/** `GET /bus/lag`: an agent's group lag per partition of its topic and retry topic. */
export const groupLagSchema = z.object({
  group_id: z.string(),
  partitions: z.array(partitionLagSchema),
  total: z.number(),
});
export type GroupLag = z.output<typeof groupLagSchema>;

/** A dead-lettered event as operators see it: the original record plus the provenance the engine attached. */
export const dlqEntrySchema = z.object({
  partition: z.number().int(),
  offset: z.string(),
  key: z.string().nullable(),
  /** The envelope's task id, also when the envelope is otherwise invalid but has a string `id`. */
  task_id: z.string().optional(),
  /** The decoded envelope, when the value is a valid one. */
  envelope: envelopeSchema.optional(),
  /** The value as UTF-8 text, clipped; null for a record without a value. */
  raw_value: z.string().nullable(),
  /** Size of the original value in bytes. */
  value_bytes: z.number().int(),
  /** Why it was dead-lettered: invalid_record, non_retriable, retries_exhausted. */
  reason: z.string().optional(),
  error_class: z.string().optional(),
  error_message: z.string().optional(),
  error_stack: z.string().optional(),
  /** Attempts made before giving up. */
  attempts: z.number().int().optional(),
  source_topic: z.string().optional(),
  source_partition: z.number().int().optional(),
  source_offset: z.string().optional(),
  agent: z.string().optional(),
  consumer_group: z.string().optional(),
  /** Epoch ms. */
  first_failure_at: z.number().optional(),
  /** Epoch ms. */
  last_failure_at: z.number().optional(),
  /** Epoch ms: when the record was written to the DLQ. */
  dead_lettered_at: z.number(),
  /** Set when this record is itself the failure of a replay: `<dlqTopic>:<partition>:<offset>` of the original. */
  replay_of: z.string().optional(),
  /** A replay of this record has been published. */
  replayed: z.boolean(),
  /** Every header of the record, original and provenance. */
  headers: z.record(z.string(), z.string()),
});
export type DlqEntry = z.output<typeof dlqEntrySchema>;

/** `GET /bus/dlq/summary`: what an agent's DLQ holds, counted in one read of it. */
export const dlqSummarySchema = z.object({
  topic: z.string(),
  agent: z.string(),
  dlq_topic: z.string(),
  entries: z.number().int().meta({ description: "Dead-lettered records (replay markers not counted)" }),
  replayed: z.number().int().meta({ description: "Entries a replay was published for" }),
  error_classes: z.array(z.object({ error_class: z.string(), count: z.number().int() })).meta({
    description: 'Entries per error class, most first; past 100 classes the rest count as "(other)"',
  }),
  reasons: z
    .array(z.object({ reason: z.string(), count: z.number().int() }))
    .meta({ description: "Entries per reason, most first" }),
  oldest_at: z.number().nullable().meta({ description: "Epoch ms the oldest entry reached the DLQ" }),
  newest_at: z.number().nullable().meta({ description: "Epoch ms the newest entry reached the DLQ" }),
});
export type DlqSummary = z.output<typeof dlqSummarySchema>;

/** `POST /bus/dlq/replay`. */
export const dlqReplayResultSchema = z.object({
  dry_run: z.boolean(),
  /** Entries replayed (with dry_run: that would be), oldest first; the first thousand at most. */
  replayed: z.array(dlqEntrySchema),
  skipped: z.array(z.object({ entry: dlqEntrySchema, reason: z.string() })),
  /** Requested task ids or `<partition>:<offset>` that are not in the DLQ. */
  not_found: z.array(z.string()),
  replayed_count: z.number().int(),
  skipped_count: z.number().int(),
  /** Whether `replayed` or `skipped` leave entries out. */
  truncated: z.boolean(),
});
export type DlqReplayResult = z.output<typeof dlqReplayResultSchema>;

/** `POST /bus/dlq/purge`. */
export const dlqPurgedSchema = z.object({ deleted: z.number().int() });
export type DlqPurged = z.output<typeof dlqPurgedSchema>;

const TIME_MESSAGE = "expected epoch milliseconds or an ISO 8601 date-time";
const epochMs = z
  .union([z.number().int().nonnegative(), z.iso.datetime({ offset: true, error: TIME_MESSAGE })], {
    error: TIME_MESSAGE,
  })
  .transform((value) => (typeof value === "number" ? value : Date.parse(value)));

const REPLAY_SELECTORS = ["all", "ids", "offsets", "filter"] as const;

/** The bus-inspection requests under `rules` (see {@link DomainRules}). */
export function busRequests(rules: DomainRules) {
  const { topic, agentName } = nameFields(rules);
  const agentQuery = z.object({ topic: topic(), agent: agentName() });

  /**
   * A DLQ filter. Strict: a misspelt criterion is refused rather than ignored, because an ignored criterion widens
   * a replay.
   */
  const dlqFilterBody = z
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

  /** `POST /bus/dlq/replay`. Strict, so `dryrun` (a typo of dry_run) is refused instead of replaying for real. */
  const dlqReplayBody = z
    .strictObject({
      topic: topic(),
      agent: agentName(),
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
      filter: dlqFilterBody.optional(),
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
      const given = REPLAY_SELECTORS.filter((key) =>
        key === "all" ? body.all === true : body[key] !== undefined,
      );
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

  return {
    groupsQuery: z.object({
      stream: shortText(249).optional().meta({ description: "Only groups consuming this topic" }),
    }),
    agentQuery,
    dlqListQuery: agentQuery.extend({
      limit: limitQuery(100, 10_000),
      error_class: shortText(256).optional(),
      reason: shortText(64).optional(),
    }),
    dlqFilterBody,
    dlqReplayBody,
    dlqPurgeBody: z.strictObject({ topic: topic(), agent: agentName() }),
  };
}
