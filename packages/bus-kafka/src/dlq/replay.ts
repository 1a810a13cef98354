import type { Logger } from "pino";
import type { BusAdmin } from "../admin";
import type { AgentNames } from "../naming";
import type { Publisher } from "../producer";
import {
  compareEntries,
  parseDlqRecord,
  parseEntryKey,
  parseMarker,
  type DlqEntry,
  type DlqRecord,
} from "./entry";
import { OffsetRuns } from "./offset-runs";
import type { ReadRange } from "./reader";
import {
  markerHeaders,
  parseReplaySelector,
  RequestedTally,
  replayHeaders,
  replayVerdict,
  type DlqReplayOptions,
} from "./replay-plan";

export interface DlqReplayResult {
  dryRun: boolean;
  /**
   * Entries published to the retry topic (with `dryRun`: that would be), oldest first; at most
   * `maxReportedEntries` of them (`replayedCount` counts every one).
   */
  replayed: DlqEntry[];
  /** Entries selected but not replayed, with why; at most `maxReportedEntries` (`skippedCount` counts all). */
  skipped: Array<{ entry: DlqEntry; reason: string }>;
  /** Requested task ids or `<partition>:<offset>` that are not in the DLQ. */
  notFound: string[];
  replayedCount: number;
  skippedCount: number;
  /** Whether `replayed` or `skipped` leave entries out (a replay larger than `maxReportedEntries`). */
  truncated: boolean;
}

/** One page of a replay: the entries to publish and their original records (none on a dry run). */
type ReplayPage = Array<{ entry: DlqEntry; record: DlqRecord }>;

export interface DlqReplaysOptions {
  admin: Pick<BusAdmin, "topicOffsets">;
  /** Publishes replays and ledger markers. */
  publisher: Publisher;
  logger: Logger;
  /** Streams the given ranges of the agent's DLQ (the manager's reader). */
  read(
    names: AgentNames,
    ranges: ReadRange[],
    onRecord: (record: DlqRecord) => void | Promise<void>,
  ): Promise<void>;
  maxValueChars: number;
  replayChunkSize: number;
  maxReportedEntries: number;
}

/**
 * Replays of an agent's DLQ (the I/O around dlq/replay-plan.ts's rules): read the ledger, then page through the
 * records, publishing each page to the retry topic and its markers to the DLQ before the next page is read. The DLQ
 * manager runs it within its own start/stop.
 */
export class DlqReplays {
  constructor(private readonly options: DlqReplaysOptions) {}

  /** See `DlqManager.replay`. */
  async replay(names: AgentNames, options: DlqReplayOptions): Promise<DlqReplayResult> {
    const selector = parseReplaySelector(options);
    const dryRun = options.dryRun === true;
    const force = options.force === true;
    const result: DlqReplayResult = {
      dryRun,
      replayed: [],
      skipped: [],
      notFound: [],
      replayedCount: 0,
      skippedCount: 0,
      truncated: false,
    };
    const tally = new RequestedTally(selector);
    const offsets = await this.options.admin.topicOffsets(names.dlqTopic);
    if (offsets !== undefined) {
      // Both passes read up to the same high watermarks, so markers this replay writes are not read back.
      const ranges = offsets.map(({ partition, low, high }) => ({ partition, from: low, to: high }));
      const ledger = await this.readLedger(names, ranges);
      let page: ReplayPage = [];
      const flush = async (): Promise<void> => {
        const full = page;
        page = [];
        if (dryRun) for (const { entry } of full) this.reportReplayed(result, entry);
        else await this.replayPage(names, full, result);
      };
      await this.options.read(names, ranges, async (record) => {
        const parsed = parseDlqRecord(record, this.options.maxValueChars);
        if (parsed.kind === "marker") return;
        const entry = parsed.entry;
        entry.replayed = ledger.has(entry.partition, BigInt(entry.offset));
        const verdict = replayVerdict(selector, entry, force);
        if (verdict.kind === "ignore") return;
        tally.saw(entry);
        if (verdict.kind === "skip") {
          this.reportSkipped(result, entry, verdict.reason);
          return;
        }
        page.push({ entry, record });
        if (page.length >= this.options.replayChunkSize) await flush();
      });
      await flush();
    }
    result.notFound = tally.notFound();
    result.replayed.sort(compareEntries);
    result.skipped.sort((a, b) => compareEntries(a.entry, b.entry));
    if (!dryRun) {
      this.options.logger.info(
        {
          topic: names.topic,
          agent: names.agent,
          replayed: result.replayedCount,
          skipped: result.skippedCount,
          selector: selector.kind,
        },
        "DLQ entries replayed",
      );
    }
    return result;
  }

  private async replayPage(names: AgentNames, page: ReplayPage, result: DlqReplayResult): Promise<void> {
    const now = Date.now();
    const published = await Promise.all(
      page.map(async ({ entry, record }) => {
        try {
          await this.options.publisher.send({
            topic: names.retryTopic,
            key: record.key === null ? null : record.key.toString("utf8"),
            value: record.value,
            headers: replayHeaders(entry, names.dlqTopic, now),
          });
          return true;
        } catch (error) {
          this.reportSkipped(result, entry, `publish failed: ${(error as Error).message}`);
          return false;
        }
      }),
    );
    // Markers only after the replays were acknowledged (see the class comment).
    const replayed = page.filter((_, index) => published[index]);
    await Promise.all(
      replayed.map(async ({ entry }) => {
        try {
          await this.options.publisher.send({
            topic: names.dlqTopic,
            key: null,
            value: null,
            headers: markerHeaders(entry),
            partition: entry.partition,
          });
        } catch (error) {
          // The replay happened; without its marker a later replay would publish it once more.
          this.options.logger.warn(
            { err: error, partition: entry.partition, offset: entry.offset },
            "replay marker not written; the entry may be replayed again",
          );
        }
        this.reportReplayed(result, { ...entry, replayed: true });
      }),
    );
  }

  private reportReplayed(result: DlqReplayResult, entry: DlqEntry): void {
    result.replayedCount++;
    if (result.replayed.length < this.options.maxReportedEntries) result.replayed.push(entry);
    else result.truncated = true;
  }

  private reportSkipped(result: DlqReplayResult, entry: DlqEntry, reason: string): void {
    result.skippedCount++;
    if (result.skipped.length < this.options.maxReportedEntries) result.skipped.push({ entry, reason });
    else result.truncated = true;
  }

  /**
   * The replay ledger: which records of the ranges a marker says were replayed. Marker offsets join the set too
   * (they are never entries), so a DLQ replayed in full stays one run per partition however often it was replayed.
   */
  private async readLedger(names: AgentNames, ranges: ReadRange[]): Promise<OffsetRuns> {
    const ledger = new OffsetRuns();
    await this.options.read(names, ranges, (record) => {
      const marker = parseMarker(record);
      if (marker === undefined) return;
      ledger.add(record.partition, BigInt(record.offset));
      const target = marker.target === undefined ? undefined : parseEntryKey(marker.target);
      if (target !== undefined) ledger.add(target.partition, BigInt(target.offset));
    });
    return ledger;
  }
}
