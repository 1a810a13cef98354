import { parseEntryKey, type ParsedDlqRecord } from "./entry";
import { OffsetRuns } from "./offset-runs";

/** Error classes counted one by one; past this many distinct classes, the rest are counted under `OTHER_CLASSES`. */
export const MAX_SUMMARY_CLASSES = 100;
export const OTHER_CLASSES = "(other)";
/** The class and reason of an entry whose headers name none (a record written by something else than the engine). */
export const UNKNOWN = "(unknown)";

/** What an agent's DLQ holds, counted in one read: the numbers an operator looks at before listing entries. */
export interface DlqSummary {
  /** Dead-lettered records (replay markers not counted). */
  entries: number;
  /** Entries a replay was published for. */
  replayed: number;
  /** Entries per error class, most first. */
  errorClasses: Array<{ errorClass: string; count: number }>;
  /** Entries per reason (invalid_record, non_retriable, retries_exhausted), most first. */
  reasons: Array<{ reason: string; count: number }>;
  /** Epoch ms when the oldest and newest entry reached the DLQ; null when it is empty. */
  oldestAt: number | null;
  newestAt: number | null;
}

/**
 * Folds a DLQ's records into a {@link DlqSummary}. Memory is bounded whatever the DLQ's size: counters, at most
 * {@link MAX_SUMMARY_CLASSES} classes, and the replayed offsets as runs.
 */
export class DlqSummaryTally {
  private entries = 0;
  private replayed = 0;
  private readonly replayedTargets = new OffsetRuns();
  private readonly classes = new Map<string, number>();
  private readonly reasons = new Map<string, number>();
  private oldestAt: number | null = null;
  private newestAt: number | null = null;

  add(parsed: ParsedDlqRecord): void {
    if (parsed.kind === "marker") {
      // A record replayed again (force) has several markers: count it once.
      const target = parsed.target === undefined ? undefined : parseEntryKey(parsed.target);
      if (target === undefined) return;
      const offset = BigInt(target.offset);
      if (!this.replayedTargets.has(target.partition, offset)) {
        this.replayedTargets.add(target.partition, offset);
        this.replayed++;
      }
      return;
    }
    const { entry } = parsed;
    this.entries++;
    const errorClass = entry.errorClass ?? UNKNOWN;
    const classKey =
      this.classes.has(errorClass) || this.classes.size < MAX_SUMMARY_CLASSES ? errorClass : OTHER_CLASSES;
    this.classes.set(classKey, (this.classes.get(classKey) ?? 0) + 1);
    const reason = entry.reason ?? UNKNOWN;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
    this.oldestAt =
      this.oldestAt === null ? entry.deadLetteredAt : Math.min(this.oldestAt, entry.deadLetteredAt);
    this.newestAt =
      this.newestAt === null ? entry.deadLetteredAt : Math.max(this.newestAt, entry.deadLetteredAt);
  }

  summary(): DlqSummary {
    const ranked = (counts: Map<string, number>): Array<[string, number]> =>
      [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return {
      entries: this.entries,
      // A marker whose record was already gone (retention) names nothing left to count.
      replayed: Math.min(this.replayed, this.entries),
      errorClasses: ranked(this.classes).map(([errorClass, count]) => ({ errorClass, count })),
      reasons: ranked(this.reasons).map(([reason, count]) => ({ reason, count })),
      oldestAt: this.oldestAt,
      newestAt: this.newestAt,
    };
  }
}
