import { randomUUID } from "node:crypto";
import pino, { type Logger } from "pino";
import { BusAdmin } from "./admin";
import type { KafkaConnectionInput } from "./config";
import { BusError } from "./errors";
import { createKafka } from "./kafka-client";
import { agentNames, type AgentNames } from "./naming";
import type { Publisher } from "./producer";
import {
  compareEntries,
  DEFAULT_MAX_VALUE_CHARS,
  entryKey,
  parseDlqRecord,
  parseEntryKey,
  parseMarker,
  type DlqEntry,
  type DlqRecord,
} from "./dlq/entry";
import { matchesDlqFilter, parseDlqFilter, type DlqFilter } from "./dlq/filter";
import { OffsetRuns } from "./dlq/offset-runs";
import { OldestEntries } from "./dlq/oldest-entries";
import { readRanges, type ReadRange } from "./dlq/reader";
import { DlqSummaryTally, type DlqSummary } from "./dlq/summary";
import {
  markerHeaders,
  parseReplaySelector,
  RequestedTally,
  replayHeaders,
  replayVerdict,
  type DlqReplayOptions,
} from "./dlq/replay-plan";
import { withDeadline } from "./util/deadline";

export type { DlqEntry } from "./dlq/entry";
export type { DlqFilter } from "./dlq/filter";
export type { DlqReplayOptions } from "./dlq/replay-plan";
export type { DlqSummary } from "./dlq/summary";

/** Prefix of the throwaway groups DLQ reads join; outside "omnidaemon." so `listGroups()` never shows them. */
export const DLQ_READER_GROUP_PREFIX = "omnidaemon-dlq-reader-";

export interface DlqManagerOptions {
  connection: KafkaConnectionInput;
  /** Publishes replays and ledger markers. Started and stopped by its owner (entered before this manager). */
  publisher: Publisher;
  logger?: Logger;
  /** Longest a read of a DLQ (list, inspect, replay) may go without receiving a record. @default 30000 */
  readTimeoutMs?: number;
  /** Characters of a record's value shown in `DlqEntry.rawValue`. @default 65536 */
  maxValueChars?: number;
  /**
   * A replay's page: records read into memory, then published at once, before the next page is read. What a
   * replay holds at any time is one page, whatever the DLQ's size. @default 500
   */
  replayChunkSize?: number;
  /** Entries listed in each of a replay result's `replayed` and `skipped` (the counts cover all). @default 1000 */
  maxReportedEntries?: number;
  /** How long `stop()` waits for reads and replays in progress before abandoning them. @default 10000 */
  stopTimeoutMs?: number;
}

/** Most entries one list returns: a list holds at most this many entries in memory. */
export const MAX_DLQ_LIST_LIMIT = 10_000;

export interface DlqListOptions {
  /** Most entries returned, oldest dead-lettered first; at most {@link MAX_DLQ_LIST_LIMIT}. @default 100 */
  limit?: number;
  filter?: DlqFilter;
}

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

/**
 * Operator access to an agent's dead-letter topic: list, inspect, replay, purge.
 *
 * The DLQ topic is its own replay ledger. Replaying record (p, o) publishes it to the agent's retry topic and then
 * appends a marker (null value, header `omni-replayed: "p:o"`) to partition p of the DLQ itself; a later read sees
 * the marker after the record and reports it as replayed. So the ledger needs no extra storage, lives and dies with
 * the records it describes (a purge or retention removes both), survives restarts of every process, and every
 * operator — any coordinator replica, the CLI — sees the same answer. The marker is written only after the replay
 * was acknowledged: a crash in between replays that record again next time (at least once), never loses it.
 * Two operators replaying the same record at the same instant can both publish it; the engine is at-least-once
 * anyway, and the ledger catches every replay that starts after a marker landed.
 *
 * Memory is bounded whatever the DLQ's size: reads stream the topic; a list keeps only the `limit` oldest entries;
 * a replay first reads the ledger (markers only, as runs of offsets), then pages through the records, publishing
 * each page before reading the next.
 */
export class DlqManager {
  readonly name = "dlq-manager";
  private readonly logger: Logger;
  private readonly publisher: Publisher;
  private readonly admin: BusAdmin;
  private readonly readTimeoutMs: number;
  private readonly maxValueChars: number;
  private readonly replayChunkSize: number;
  private readonly maxReportedEntries: number;
  private readonly stopTimeoutMs: number;
  /** The DLQ reader's client (dlq/reader.ts, on the consumer side of the drivers). */
  private kafka: ReturnType<typeof createKafka> | undefined;
  private state: "new" | "running" | "stopped" = "new";
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  /** Aborted by stop(): reads in progress disconnect their consumers. */
  private readonly stopping = new AbortController();
  private readonly active = new Set<Promise<unknown>>();

  constructor(private readonly options: DlqManagerOptions) {
    this.logger = (options.logger ?? pino({ level: "silent" })).child({ component: "dlq-manager" });
    this.publisher = options.publisher;
    this.admin = new BusAdmin({ connection: options.connection, logger: options.logger });
    this.readTimeoutMs = options.readTimeoutMs ?? 30_000;
    this.maxValueChars = options.maxValueChars ?? DEFAULT_MAX_VALUE_CHARS;
    this.replayChunkSize = Math.max(1, options.replayChunkSize ?? 500);
    this.maxReportedEntries = Math.max(0, options.maxReportedEntries ?? 1000);
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  }

  /** Connects its admin client. Idempotent; a failed start closes what it opened and may be retried. */
  start(): Promise<void> {
    if (this.state === "stopped") return Promise.reject(new BusError("STOPPED", "DLQ manager is stopped"));
    this.startPromise ??= this.doStart().catch((error: unknown) => {
      this.startPromise = undefined;
      throw error;
    });
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    this.kafka ??= createKafka(this.options.connection, this.logger);
    await this.admin.start();
    if (this.state === "new") this.state = "running";
    this.logger.info({}, "DLQ manager started");
  }

  /** Aborts reads in progress, waits (bounded) for them and for replays, disconnects. Idempotent; safe before start(). */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    this.state = "stopped";
    this.stopping.abort();
    await this.startPromise?.catch(() => undefined);
    const settled = await withDeadline(
      Promise.allSettled([...this.active]).then(() => true),
      this.stopTimeoutMs,
      () => undefined,
    );
    if (!settled)
      this.logger.warn({ pending: this.active.size }, "DLQ operations still running at stop deadline");
    await this.admin.stop();
    this.logger.info({}, "DLQ manager stopped");
  }

  /** Entries of the agent's DLQ (replay markers hidden), oldest first. An agent without a DLQ topic has none. */
  list(topic: string, agent: string, options: DlqListOptions = {}): Promise<DlqEntry[]> {
    return this.track(async () => {
      const names = agentNames(topic, agent);
      const filter =
        options.filter === undefined ? undefined : parseDlqFilter(options.filter, "INVALID_CONFIG");
      const limit = options.limit ?? 100;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_DLQ_LIST_LIMIT) {
        throw new BusError(
          "INVALID_CONFIG",
          `limit must be an integer from 1 to ${MAX_DLQ_LIST_LIMIT}, got ${String(options.limit)}`,
          { field: "limit" },
        );
      }
      const kept = new OldestEntries(limit);
      await this.read(names, undefined, (record) => {
        const parsed = parseDlqRecord(record, this.maxValueChars);
        if (parsed.kind === "marker") {
          // A marker follows its record in the same partition: the record, if kept, is already here.
          const target = parsed.target === undefined ? undefined : kept.get(parsed.target);
          if (target !== undefined) target.replayed = true;
        } else if (filter === undefined || matchesDlqFilter(parsed.entry, filter)) {
          kept.offer(parsed.entry);
        }
      });
      return kept.sorted();
    });
  }

  /** How many entries the agent's DLQ holds, how many were replayed, and by error class and reason (one read). */
  summary(topic: string, agent: string): Promise<DlqSummary> {
    return this.track(async () => {
      const tally = new DlqSummaryTally();
      await this.read(agentNames(topic, agent), undefined, (record) => {
        tally.add(parseDlqRecord(record, this.maxValueChars));
      });
      return tally.summary();
    });
  }

  /** One entry by its DLQ coordinates; NOT_FOUND when there is no such record (or it is a replay marker). */
  inspect(topic: string, agent: string, partition: number, offset: string | number): Promise<DlqEntry> {
    return this.track(async () => {
      const names = agentNames(topic, agent);
      const key = entryKey(partition, offset);
      const notFound = (): BusError =>
        new BusError(
          "NOT_FOUND",
          `no dead-lettered record at ${names.dlqTopic} partition ${key.replace(":", " offset ")}`,
          {
            field: "offset",
          },
        );
      if (!Number.isSafeInteger(partition) || partition < 0 || !/^\d+$/.test(String(offset)))
        throw notFound();
      let found: DlqEntry | undefined;
      await this.read(names, { partition, from: BigInt(offset) }, (record) => {
        const parsed = parseDlqRecord(record, this.maxValueChars);
        if (parsed.kind === "marker") {
          if (found !== undefined && parsed.target === key) found.replayed = true;
        } else if (entryKey(record.partition, record.offset) === key) {
          found = parsed.entry;
        }
      });
      if (found === undefined) throw notFound();
      return found;
    });
  }

  /**
   * Publishes dead-lettered events again, to the agent's retry topic as a first attempt due now, with the original
   * key, value and headers. Exactly one selector (`all`, `ids`, `offsets`, `filter`); entries replayed before are
   * skipped unless `force`. With `dryRun` nothing is published.
   */
  replay(topic: string, agent: string, options: DlqReplayOptions): Promise<DlqReplayResult> {
    return this.track(async () => {
      const names = agentNames(topic, agent);
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
      const offsets = await this.admin.topicOffsets(names.dlqTopic);
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
        await this.read(names, ranges, async (record) => {
          const parsed = parseDlqRecord(record, this.maxValueChars);
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
          if (page.length >= this.replayChunkSize) await flush();
        });
        await flush();
      }
      result.notFound = tally.notFound();
      result.replayed.sort(compareEntries);
      result.skipped.sort((a, b) => compareEntries(a.entry, b.entry));
      if (!dryRun) {
        this.logger.info(
          {
            topic,
            agent,
            replayed: result.replayedCount,
            skipped: result.skippedCount,
            selector: selector.kind,
          },
          "DLQ entries replayed",
        );
      }
      return result;
    });
  }

  /** Deletes every record in the agent's DLQ up to now (records and replay markers alike). */
  purge(topic: string, agent: string): Promise<{ deleted: number }> {
    return this.track(async () => {
      const names = agentNames(topic, agent);
      const offsets = await this.admin.topicOffsets(names.dlqTopic);
      if (offsets === undefined) return { deleted: 0 };
      const nonEmpty = offsets.filter((p) => BigInt(p.high) > BigInt(p.low));
      if (nonEmpty.length === 0) return { deleted: 0 };
      await this.admin.deleteRecordsBefore(
        names.dlqTopic,
        nonEmpty.map((p) => ({ partition: p.partition, offset: p.high })),
      );
      // Counts records and markers alike: both were in the log.
      const deleted = nonEmpty.reduce((sum, p) => sum + Number(BigInt(p.high) - BigInt(p.low)), 0);
      this.logger.info({ topic, agent, deleted }, "DLQ purged");
      return { deleted };
    });
  }

  // ---------------------------------------------------------------------------------------------------------------

  private async replayPage(names: AgentNames, page: ReplayPage, result: DlqReplayResult): Promise<void> {
    const now = Date.now();
    const published = await Promise.all(
      page.map(async ({ entry, record }) => {
        try {
          await this.publisher.send({
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
          await this.publisher.send({
            topic: names.dlqTopic,
            key: null,
            value: null,
            headers: markerHeaders(entry),
            partition: entry.partition,
          });
        } catch (error) {
          // The replay happened; without its marker a later replay would publish it once more.
          this.logger.warn(
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
    if (result.replayed.length < this.maxReportedEntries) result.replayed.push(entry);
    else result.truncated = true;
  }

  private reportSkipped(result: DlqReplayResult, entry: DlqEntry, reason: string): void {
    result.skippedCount++;
    if (result.skipped.length < this.maxReportedEntries) result.skipped.push({ entry, reason });
    else result.truncated = true;
  }

  /**
   * The replay ledger: which records of the ranges a marker says were replayed. Marker offsets join the set too
   * (they are never entries), so a DLQ replayed in full stays one run per partition however often it was replayed.
   */
  private async readLedger(names: AgentNames, ranges: ReadRange[]): Promise<OffsetRuns> {
    const ledger = new OffsetRuns();
    await this.read(names, ranges, (record) => {
      const marker = parseMarker(record);
      if (marker === undefined) return;
      ledger.add(record.partition, BigInt(record.offset));
      const target = marker.target === undefined ? undefined : parseEntryKey(marker.target);
      if (target !== undefined) ledger.add(target.partition, BigInt(target.offset));
    });
    return ledger;
  }

  /**
   * Streams the DLQ to `onRecord`: `ranges` as given, one partition from an offset (`only`), or (undefined) every
   * partition from its low to its high watermark captured now. Nothing when the DLQ topic does not exist or is empty.
   */
  private async read(
    names: AgentNames,
    ranges: ReadRange[] | { partition: number; from: bigint } | undefined,
    onRecord: (record: DlqRecord) => void | Promise<void>,
  ): Promise<void> {
    const offsets = await this.admin.topicOffsets(names.dlqTopic);
    if (offsets === undefined) return;
    let wanted: ReadRange[];
    if (Array.isArray(ranges)) {
      wanted = ranges;
    } else if (ranges !== undefined) {
      const { partition, from } = ranges;
      wanted = offsets
        .filter((p) => p.partition === partition)
        .map(({ low, high }) => ({
          partition,
          from: (from > BigInt(low) ? from : BigInt(low)).toString(),
          to: high,
        }));
    } else {
      wanted = offsets.map(({ partition, low, high }) => ({ partition, from: low, to: high }));
    }
    // An empty DLQ needs no reader (and no throwaway group to clean up).
    if (!wanted.some((range) => BigInt(range.from) < BigInt(range.to))) return;
    const groupId = `${DLQ_READER_GROUP_PREFIX}${randomUUID()}`;
    try {
      await readRanges(this.kafka as ReturnType<typeof createKafka>, {
        topic: names.dlqTopic,
        ranges: wanted,
        allPartitions: offsets.map((p) => p.partition),
        groupId,
        timeoutMs: this.readTimeoutMs,
        logger: this.logger,
        signal: this.stopping.signal,
        onRecord,
      });
    } finally {
      await this.admin.deleteGroup(groupId).catch((error: unknown) => {
        this.logger.warn({ err: error, groupId }, "could not delete the DLQ reader group");
      });
    }
  }

  private track<T>(operation: () => Promise<T>): Promise<T> {
    if (this.state === "stopped") return Promise.reject(new BusError("STOPPED", "DLQ manager is stopped"));
    if (this.state !== "running") {
      return Promise.reject(new BusError("NOT_STARTED", "DLQ manager is not started; call start() first"));
    }
    const running = operation();
    this.active.add(running);
    void running.catch(() => undefined).finally(() => this.active.delete(running));
    return running;
  }
}
