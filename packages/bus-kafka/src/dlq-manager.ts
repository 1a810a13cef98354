import { randomUUID } from "node:crypto";
import { raceDeadline, TIMED_OUT } from "@omnidaemon/lifecycle";
import pino, { type Logger } from "pino";
import { BusAdmin } from "./admin";
import type { KafkaConnectionInput } from "./config";
import { BusError } from "./errors";
import { agentNames, type AgentNames } from "./naming";
import type { OutgoingRecord, Publisher } from "./producer";
import { DlqDepths, type DlqDepth } from "./dlq/depth";
import { DlqReplays, type DlqReplayResult } from "./dlq/replay";
import type { DeadLetterMeta, DeadLetterSink } from "./engine/types";
import {
  DEFAULT_MAX_VALUE_CHARS,
  entryKey,
  parseDlqRecord,
  type DlqEntry,
  type DlqRecord,
} from "./dlq/entry";
import { matchesDlqFilter, parseDlqFilter, type DlqFilter } from "./dlq/filter";
import { OldestEntries } from "./dlq/oldest-entries";
import { readRanges, type ReadRange } from "./dlq/reader";
import { DlqSummaryTally, type DlqSummary } from "./dlq/summary";
import type { DlqReplayOptions } from "./dlq/replay-plan";

export type { DlqDepth } from "./dlq/depth";
export type { DlqEntry } from "./dlq/entry";
export type { DlqFilter } from "./dlq/filter";
export type { DlqReplayOptions } from "./dlq/replay-plan";
export type { DlqReplayResult } from "./dlq/replay";
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
  /**
   * How often the depth of every watched agent's DLQ is read (`watch`, `depths`), from `start()` to `stop()`; 0
   * reads it never (the coordinator, which has no agents of its own). @default 0
   */
  depthIntervalMs?: number;
}

/** Most entries one list returns: a list holds at most this many entries in memory. */
export const MAX_DLQ_LIST_LIMIT = 10_000;

export interface DlqListOptions {
  /** Most entries returned, oldest dead-lettered first; at most {@link MAX_DLQ_LIST_LIMIT}. @default 100 */
  limit?: number;
  filter?: DlqFilter;
}

/**
 * An agent's dead-letter topic, for the worker and for operators. The worker's engine hands it its dead letters
 * (`deadLetter`, the engine's {@link DeadLetterSink}) and it reports the depth of each agent's DLQ (`watch`,
 * `depths`); operators list, inspect, replay and purge (the coordinator's bus inspection, the CLI).
 *
 * Dead-letter writes need only the publisher, which its owner starts before and stops after every consumer: they
 * work whether this manager is started or not, so a consumer that drains after the manager stopped (the worker
 * enters it after its consumers, and the stack stops it first) still hands over every dead letter.
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
export class DlqManager implements DeadLetterSink {
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
  private state: "new" | "running" | "stopped" = "new";
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  /** Aborted by stop(): reads in progress disconnect their consumers. */
  private readonly stopping = new AbortController();
  private readonly active = new Set<Promise<unknown>>();
  private readonly depthReadings = new DlqDepths();
  private readonly replays: DlqReplays;
  private readonly depthIntervalMs: number;
  private depthTimer: NodeJS.Timeout | undefined;
  private depthRead: Promise<void> | undefined;

  constructor(private readonly options: DlqManagerOptions) {
    this.logger = (options.logger ?? pino({ level: "silent" })).child({ component: "dlq-manager" });
    this.publisher = options.publisher;
    this.admin = new BusAdmin({ connection: options.connection, logger: options.logger });
    this.readTimeoutMs = options.readTimeoutMs ?? 30_000;
    this.maxValueChars = options.maxValueChars ?? DEFAULT_MAX_VALUE_CHARS;
    this.replayChunkSize = Math.max(1, options.replayChunkSize ?? 500);
    this.maxReportedEntries = Math.max(0, options.maxReportedEntries ?? 1000);
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.depthIntervalMs = options.depthIntervalMs ?? 0;
    this.replays = new DlqReplays({
      admin: this.admin,
      publisher: this.publisher,
      logger: this.logger,
      read: (names, ranges, onRecord) => this.read(names, ranges, onRecord),
      maxValueChars: this.maxValueChars,
      replayChunkSize: this.replayChunkSize,
      maxReportedEntries: this.maxReportedEntries,
    });
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
    await this.admin.start();
    if (this.state === "new") this.state = "running";
    if (this.state === "running" && this.depthIntervalMs > 0) {
      // Read once now, in the background (start does not wait on a broker round trip per agent), then periodically.
      this.readDepths();
      this.depthTimer = setInterval(() => this.readDepths(), this.depthIntervalMs);
    }
    this.logger.info({ depthIntervalMs: this.depthIntervalMs }, "DLQ manager started");
  }

  /**
   * Writes one dead letter (acks=all); resolves once the broker acknowledged it. One attempt: the engine retries a
   * failed write until it succeeds or the record's partition is revoked. Works in every phase (see the class comment).
   */
  async deadLetter(record: OutgoingRecord, meta: DeadLetterMeta): Promise<void> {
    await this.publisher.send(record);
    this.depthReadings.wrote(record.topic);
    this.logger.debug({ topic: meta.topic, agent: meta.agent, reason: meta.reason }, "dead letter written");
  }

  /** Reports the depth of this agent's DLQ from now on (the worker watches each agent it runs). */
  watch(topic: string, agent: string): void {
    this.depthReadings.watch(topic, agent);
  }

  unwatch(topic: string, agent: string): void {
    this.depthReadings.unwatch(topic, agent);
  }

  /** The DLQ depth of every watched agent read so far (see {@link DlqDepths}). */
  depths(): DlqDepth[] {
    return this.depthReadings.readings();
  }

  private readDepths(): void {
    if (this.depthRead !== undefined || this.state !== "running") return;
    const read = this.refreshDepths().finally(() => {
      this.depthRead = undefined;
      this.active.delete(read);
    });
    // Tracked like an operator's read: stop() waits for it within its deadline.
    this.depthRead = read;
    this.active.add(read);
  }

  private async refreshDepths(): Promise<void> {
    const watermarks = (dlqTopic: string) => this.admin.topicOffsets(dlqTopic);
    let result = await this.depthReadings.refresh(watermarks);
    // A DLQ this worker wrote to while it was read is read again at once (a few times at most), so a burst of dead
    // letters during a read does not leave the gauge off until the next period.
    for (let again = 0; again < 3 && result.raced.length > 0 && this.state === "running"; again++) {
      const failed = result.failed;
      result = await this.depthReadings.refresh(watermarks, result.raced);
      result.failed.push(...failed);
    }
    for (const { dlqTopic, error } of result.failed) {
      this.logger.debug({ err: error, dlqTopic }, "DLQ depth not read; the last value stands");
    }
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
    clearInterval(this.depthTimer);
    this.depthTimer = undefined;
    const settled = await raceDeadline(Promise.allSettled([...this.active]), this.stopTimeoutMs);
    if (settled === TIMED_OUT)
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
   * skipped unless `force`. With `dryRun` nothing is published (dlq/replay.ts).
   */
  replay(topic: string, agent: string, options: DlqReplayOptions): Promise<DlqReplayResult> {
    return this.track(() => this.replays.replay(agentNames(topic, agent), options));
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
      await readRanges(this.options.connection, {
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
