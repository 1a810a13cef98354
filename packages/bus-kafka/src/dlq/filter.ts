import { z } from "zod";
import { BusError, type BusErrorCode } from "../errors";
import { failureTime, type DlqEntry } from "./entry";

/** Which dead-lettered events an operator means. Every given criterion must match; an empty filter matches all. */
export interface DlqFilter {
  /** Exact error class (`omni-error-class`), e.g. "TypeError". */
  errorClass?: string;
  /** Exact dead-letter reason: invalid_record, non_retriable, retries_exhausted. */
  reason?: string;
  /** Last failure at or after this time (epoch ms). */
  since?: number;
  /** Last failure before this time (epoch ms); `since` ≤ t < `until`. */
  until?: number;
  /** Task ids (envelope `id`). */
  taskIds?: string[];
}

const epochMs = z.number().int().nonnegative();

export const dlqFilterSchema = z
  .strictObject({
    errorClass: z.string().min(1).max(256).optional(),
    reason: z.string().min(1).max(64).optional(),
    since: epochMs.optional(),
    until: epochMs.optional(),
    taskIds: z.array(z.string().min(1).max(256)).min(1).max(10_000).optional(),
  })
  .refine((f) => f.since === undefined || f.until === undefined || f.since < f.until, {
    message: "since must be before until",
    path: ["until"],
  });

/** Validates a filter; the error names the offending field (`filter.since`, …). */
export function parseDlqFilter(input: unknown, code: BusErrorCode, field = "filter"): DlqFilter {
  const result = dlqFilterSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = [field, ...(issue?.path ?? []).map(String)].join(".");
    throw new BusError(code, `invalid ${path}: ${issue?.message ?? "invalid"}`, { field: path });
  }
  return result.data;
}

export function isEmptyFilter(filter: DlqFilter): boolean {
  return (
    filter.errorClass === undefined &&
    filter.reason === undefined &&
    filter.since === undefined &&
    filter.until === undefined &&
    (filter.taskIds === undefined || filter.taskIds.length === 0)
  );
}

type Matchable = Pick<DlqEntry, "errorClass" | "reason" | "taskId" | "lastFailureAt" | "deadLetteredAt">;

export function matchesDlqFilter(entry: Matchable, filter: DlqFilter): boolean {
  if (filter.errorClass !== undefined && entry.errorClass !== filter.errorClass) return false;
  if (filter.reason !== undefined && entry.reason !== filter.reason) return false;
  const at = failureTime(entry);
  if (filter.since !== undefined && !(at >= filter.since)) return false;
  if (filter.until !== undefined && !(at < filter.until)) return false;
  if (filter.taskIds !== undefined && filter.taskIds.length > 0) {
    if (entry.taskId === undefined || !filter.taskIds.includes(entry.taskId)) return false;
  }
  return true;
}
