import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import pino, { type Logger } from "pino";
import { BusAdmin } from "./admin";
import type { KafkaConnectionInput } from "./config";
import { BusError } from "./errors";
import { createKafka } from "./kafka-client";
import { agentNames, type AgentNames } from "./naming";
import type { Publisher } from "./producer";
import {
  DEFAULT_MAX_VALUE_CHARS,
  entryKey,
  parseDlqRecord,
  type DlqEntry,
  type DlqRecord,
} from "./dlq/entry";
import { matchesDlqFilter, parseDlqFilter, type DlqFilter } from "./dlq/filter";
import { readRanges, type ReadRange } from "./dlq/reader";
import {
  markerHeaders,
  parseReplaySelector,
  planReplay,
  replayHeaders,
  selects,
  type DlqReplayOptions,
} from "./dlq/replay-plan";
import { withDeadline } from "./util/deadline";

export type { DlqEntry } from "./dlq/entry";
export type { DlqFilter } from "./dlq/filter";
export type { DlqReplayOptions } from "./dlq/replay-plan";

/** Prefix of the throwaway groups DLQ reads join; outside "omnidaemon." so `listGroups()` never shows them. */
export const DLQ_READER_GROUP_PREFIX = "omnidaemon-dlq-reader-";

export interface DlqManagerOptions {
  connection: KafkaConnectionInput;
  /** Publishes replays and ledger markers. Started and stopped by its owner (entered before this manager). */
  publisher: Publisher;
  logger?: Logger;
  /** Longest one read of a DLQ (list, inspect, replay) may take. @default 30000 */
  readTimeoutMs?: number;
  /** Characters of a record's value shown in `DlqEntry.rawValue`. @default 65536 */
  maxValueChars?: number;
  /** Records published at once during a replay. @default 500 */
  replayChunkSize?: number;
  /** How long `stop()` waits for reads and replays in progress before abandoning them. @default 10000 */
  stopTimeoutMs?: number;
}

export interface DlqListOptions {
  /** Most entries returned, oldest dead-lettered first. @default all */
  limit?: number;
  filter?: DlqFilter;
}

export interface DlqReplayResult {
  dryRun: boolean;
  /** Entries published to the retry topic (with `dryRun`: that would be). */
  replayed: DlqEntry[];
  skipped: Array<{ entry: DlqEntry; reason: string }>;
  /** Requested task ids or `<partition>:<offset>` that are not in the DLQ. */
  notFound: string[];
}

interface ScanResult {
  entries: DlqEntry[];
  /** The original records of `entries`, by `<partition>:<offset>` (only kept when asked for). */
  records: Map<string, DlqRecord>;
}

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
 */
export class DlqManager {
  readonly name = "dlq-manager";
  private readonly logger: Logger;
  private readonly publisher: Publisher;
  private readonly admin: BusAdmin;
  private readonly readTimeoutMs: number;
  private readonly maxValueChars: number;
  private readonly replayChunkSize: number;
  private readonly stopTimeoutMs: number;
  private kafka: Kafka | undefined;
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
    this.replayChunkSize = options.replayChunkSize ?? 500;
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
      const limit = options.limit;
      if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
        throw new BusError("INVALID_CONFIG", `limit must be a positive integer, got ${String(limit)}`, {
          field: "limit",
        });
      }
      const { entries } = await this.scan(names, {
        keep: (entry) => filter === undefined || matchesDlqFilter(entry, filter),
        perPartitionLimit: limit,
        keepRecords: false,
      });
      return limit === undefined ? entries : entries.slice(0, limit);
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
      const { entries } = await this.scan(names, {
        keep: (entry) => entryKey(entry.partition, entry.offset) === key,
        only: { partition, from: BigInt(offset) },
        keepRecords: false,
      });
      const entry = entries[0];
      if (entry === undefined) throw notFound();
      return entry;
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
      const { entries, records } = await this.scan(names, {
        keep: (entry) => selects(selector, entry),
        keepRecords: !dryRun,
      });
      const plan = planReplay(entries, selector, options.force === true);
      const result: DlqReplayResult = {
        dryRun,
        replayed: [],
        skipped: plan.skipped,
        notFound: plan.notFound,
      };
      if (dryRun) {
        result.replayed = plan.replay;
        return result;
      }
      for (let i = 0; i < plan.replay.length; i += this.replayChunkSize) {
        const chunk = plan.replay.slice(i, i + this.replayChunkSize);
        await this.replayChunk(names, chunk, records, result);
      }
      this.logger.info(
        {
          topic,
          agent,
          replayed: result.replayed.length,
          skipped: result.skipped.length,
          selector: selector.kind,
        },
        "DLQ entries replayed",
      );
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

  private async replayChunk(
    names: AgentNames,
    chunk: DlqEntry[],
    records: Map<string, DlqRecord>,
    result: DlqReplayResult,
  ): Promise<void> {
    const now = Date.now();
    const published = await Promise.all(
      chunk.map(async (entry) => {
        const record = records.get(entryKey(entry.partition, entry.offset)) as DlqRecord;
        try {
          await this.publisher.send({
            topic: names.retryTopic,
            key: record.key === null ? null : record.key.toString("utf8"),
            value: record.value,
            headers: replayHeaders(entry, names.dlqTopic, now),
          });
          return true;
        } catch (error) {
          result.skipped.push({ entry, reason: `publish failed: ${(error as Error).message}` });
          return false;
        }
      }),
    );
    // Markers only after the replays were acknowledged (see the class comment).
    const replayed = chunk.filter((_, index) => published[index]);
    await Promise.all(
      replayed.map(async (entry) => {
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
        result.replayed.push({ ...entry, replayed: true });
      }),
    );
  }

  /**
   * Reads the DLQ from its low watermarks to the high watermarks captured now, resolves replay markers, and returns
   * the entries `keep` accepts, oldest dead-lettered first.
   */
  private async scan(
    names: AgentNames,
    options: {
      keep?: (entry: DlqEntry) => boolean;
      /** Read one partition from an offset instead of every partition from the start. */
      only?: { partition: number; from: bigint };
      /** Keep at most this many kept entries per partition (the earliest ones). */
      perPartitionLimit?: number;
      keepRecords: boolean;
    },
  ): Promise<ScanResult> {
    const result: ScanResult = { entries: [], records: new Map() };
    const offsets = await this.admin.topicOffsets(names.dlqTopic);
    if (offsets === undefined) return result;
    const ranges: ReadRange[] = [];
    for (const { partition, low, high } of offsets) {
      if (options.only !== undefined) {
        if (partition !== options.only.partition) continue;
        const from = options.only.from > BigInt(low) ? options.only.from : BigInt(low);
        ranges.push({ partition, from: from.toString(), to: high });
      } else {
        ranges.push({ partition, from: low, to: high });
      }
    }
    // An empty DLQ needs no reader (and no throwaway group to clean up).
    if (!ranges.some((range) => BigInt(range.from) < BigInt(range.to))) return result;
    const replayed = new Set<string>();
    const keptPerPartition = new Map<number, number>();
    const groupId = `${DLQ_READER_GROUP_PREFIX}${randomUUID()}`;
    try {
      await readRanges(this.kafka as Kafka, {
        topic: names.dlqTopic,
        ranges,
        allPartitions: offsets.map((p) => p.partition),
        groupId,
        timeoutMs: this.readTimeoutMs,
        logger: this.logger,
        signal: this.stopping.signal,
        onRecord: (record) => {
          const parsed = parseDlqRecord(record, this.maxValueChars);
          if (parsed.kind === "marker") {
            if (parsed.target !== undefined) replayed.add(parsed.target);
            return;
          }
          if (options.keep !== undefined && !options.keep(parsed.entry)) return;
          const kept = keptPerPartition.get(record.partition) ?? 0;
          if (options.perPartitionLimit !== undefined && kept >= options.perPartitionLimit) return;
          keptPerPartition.set(record.partition, kept + 1);
          result.entries.push(parsed.entry);
          if (options.keepRecords) result.records.set(entryKey(record.partition, record.offset), record);
        },
      });
    } finally {
      await this.admin.deleteGroup(groupId).catch((error: unknown) => {
        this.logger.warn({ err: error, groupId }, "could not delete the DLQ reader group");
      });
    }
    for (const entry of result.entries)
      entry.replayed = replayed.has(entryKey(entry.partition, entry.offset));
    result.entries.sort(
      (a, b) =>
        a.deadLetteredAt - b.deadLetteredAt ||
        a.partition - b.partition ||
        (BigInt(a.offset) < BigInt(b.offset) ? -1 : BigInt(a.offset) > BigInt(b.offset) ? 1 : 0),
    );
    return result;
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
