// Long on purpose (about 600 lines): one class over one admin client, and the kafkajs#1622 defences (existence checks
// before topic-scoped reads, a replaced client whose calls in flight are counted before it is closed) wrap every
// operation. Topics, groups and offsets split into files would each need that machinery, or share its private state.
import { raceDeadline, sleep, StartStop, TIMED_OUT, withDeadline } from "@omnidaemon/lifecycle";
import pino, { type Logger } from "pino";
import { parseKafkaConnection, type KafkaConnection, type KafkaConnectionInput } from "./config";
import { BusError } from "./errors";
import { explainConnectError } from "./connect-errors";
import type { AdminDriver } from "./driver/admin";
import { createAdminDriver } from "./driver/factories";
import { hasBrokerError } from "./driver/errors";
import { agentNames, RESERVED_PREFIX, SYSTEM_TOPICS, validateTopic } from "./naming";

/** Default partition count of topics the bus creates. */
export const DEFAULT_TOPIC_PARTITIONS = 12;
/** 1 MiB envelope plus 64 KiB for the headers the retry and DLQ paths add (error message, stack, provenance). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 + 64 * 1024;

export interface BusAdminOptions {
  connection: KafkaConnectionInput;
  logger?: Logger;
  /** Partitions of a topic the bus creates when the caller does not say. @default 12 */
  defaultPartitions?: number;
  /** Replication factor of topics the bus creates; -1 lets the broker decide (`default.replication.factor`). @default -1 */
  replicationFactor?: number;
  /**
   * `max.message.bytes` of topics the bus creates, so a 1 MiB envelope plus the headers added on its way to the
   * retry topic or the DLQ still fits. @default 1114112 (1 MiB + 64 KiB)
   */
  maxMessageBytes?: number;
  /** How long topic creation waits for every new partition to have a leader. @default 30000 */
  leaderWaitTimeoutMs?: number;
  /** How long `stop()` waits for the admin connection to close. @default 10000 */
  stopTimeoutMs?: number;
}

export interface PingResult {
  ok: true;
  brokers: number;
  clusterId: string;
  latencyMs: number;
}

export interface AgentTopics {
  topic: string;
  retryTopic: string;
  dlqTopic: string;
  /** Partition count of the main topic, which the retry and dead-letter topics follow. */
  partitions: number;
  /** The topics this call created (empty when everything existed). */
  created: string[];
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  /** topic → partitions currently assigned to this member (empty while the group rebalances). */
  assignments: Record<string, number[]>;
}

export interface GroupInfo {
  groupId: string;
  /**
   * Broker-reported state: Empty, Stable, PreparingRebalance, CompletingRebalance (classic protocol), Assigning,
   * Reconciling (consumer protocol, KIP-848), Dead (no such group).
   */
  state: string;
  members: GroupMember[];
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset the group will read; null when the group never committed on this partition. */
  committed: string | null;
  /** Log end offset (high watermark). */
  high: string;
  /** Records not yet consumed by the group. */
  lag: number;
}

export interface GroupLag {
  groupId: string;
  partitions: PartitionLag[];
  total: number;
}

export interface TopicOffsets {
  partition: number;
  /** First offset still in the log. */
  low: string;
  /** Offset the next record will get. */
  high: string;
}

function positiveInt(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new BusError("INVALID_CONFIG", `${field} must be a positive integer, got ${String(value)}`, {
      field,
    });
  }
  return value;
}

/**
 * Topic, group and offset administration, for the coordinator (registry, bus inspection) and the worker (creating
 * an agent's topics before it consumes). Returns plain objects; the Kafka client stays inside (driver/admin.ts).
 * Consumer groups of both protocols (classic and KIP-848's consumer protocol) are listed, described and deleted.
 *
 * kafkajs remembers every topic an admin call touched and includes it in each later metadata refresh; once such a
 * topic is deleted (by this process or any other), every call fails with UNKNOWN_TOPIC_OR_PARTITION
 * (tulios/kafkajs#1622). Two defences, whichever driver runs: topic-scoped reads first check that the topic exists,
 * and a call that still fails that way replaces the admin client (new metadata cache) and runs once more.
 */
export class BusAdmin {
  readonly name = "bus-admin";
  private readonly logger: Logger;
  private readonly defaultPartitions: number;
  private readonly replicationFactor: number;
  private readonly maxMessageBytes: number;
  private readonly leaderWaitTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private readonly connection: KafkaConnection;
  private admin: AdminDriver | undefined;
  private readonly lifecycle = new StartStop(
    this.name,
    { start: () => this.doStart(), stop: () => this.doStop() },
    { stoppedError: () => new BusError("STOPPED", "bus admin is stopped") },
  );
  /** Calls in progress per client (see `using`). */
  private readonly inUse = new Map<AdminDriver, number>();
  /** Replaced clients still serving calls; closed when their last call ends. */
  private readonly retired = new Set<AdminDriver>();
  private readonly closing = new Set<Promise<void>>();
  private replacing: Promise<void> | undefined;

  constructor(private readonly options: BusAdminOptions) {
    this.logger = (options.logger ?? pino({ level: "silent" })).child({ component: "bus-admin" });
    this.connection = parseKafkaConnection(options.connection);
    this.defaultPartitions = positiveInt(
      options.defaultPartitions,
      "defaultPartitions",
      DEFAULT_TOPIC_PARTITIONS,
    );
    this.replicationFactor = options.replicationFactor ?? -1;
    this.maxMessageBytes = positiveInt(options.maxMessageBytes, "maxMessageBytes", DEFAULT_MAX_MESSAGE_BYTES);
    this.leaderWaitTimeoutMs = options.leaderWaitTimeoutMs ?? 30_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  }

  /** Connects the admin client. Idempotent; a failed start leaves nothing open and may be retried. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  private async doStart(): Promise<void> {
    const admin = createAdminDriver(this.connection, this.logger);
    try {
      await admin.connect();
    } catch (error) {
      await admin.disconnect().catch(() => undefined);
      const explained = explainConnectError(error, this.connection);
      throw new BusError(
        "ADMIN_FAILED",
        explained ?? `could not connect the Kafka admin: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (this.lifecycle.stopped) {
      // stop() ran while we were connecting: do not leave a connection behind.
      await admin.disconnect().catch(() => undefined);
      throw new BusError("STOPPED", "bus admin was stopped while starting");
    }
    this.admin = admin;
    this.logger.info({}, "admin connected");
  }

  /** Disconnects (bounded). Idempotent; safe before start(). */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private async doStop(): Promise<void> {
    await this.replacing?.catch(() => undefined);
    const clients = [...(this.admin === undefined ? [] : [this.admin]), ...this.retired];
    this.admin = undefined;
    this.retired.clear();
    for (const client of clients) this.close(client);
    const closed = await raceDeadline(Promise.all([...this.closing]), this.stopTimeoutMs);
    if (closed === TIMED_OUT)
      this.logger.warn({ stopTimeoutMs: this.stopTimeoutMs }, "admin disconnect deadline passed");
    this.logger.info({}, "admin stopped");
  }

  // --- health --------------------------------------------------------------------------------------------------

  /** One metadata round trip to the cluster, for health checks. Throws ADMIN_FAILED when Kafka does not answer. */
  async ping(timeoutMs = 5000): Promise<PingResult> {
    const admin = this.running();
    const started = Date.now();
    try {
      const cluster = await withDeadline(
        this.using(admin, (client) => client.describeCluster()),
        timeoutMs,
        () => new BusError("ADMIN_FAILED", `Kafka did not answer within ${timeoutMs} ms`),
      );
      return {
        ok: true,
        brokers: cluster.brokers,
        clusterId: cluster.clusterId,
        latencyMs: Date.now() - started,
      };
    } catch (error) {
      if (error instanceof BusError) throw error;
      throw new BusError("ADMIN_FAILED", `Kafka is unreachable: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  // --- topics --------------------------------------------------------------------------------------------------

  async listTopics(): Promise<string[]> {
    return this.call("listTopics", (admin) => admin.listTopics());
  }

  /** Partition count of `topic`, or undefined when it does not exist. */
  async topicPartitions(topic: string): Promise<number | undefined> {
    const counts = await this.partitionCounts([topic]);
    return counts.get(topic);
  }

  /** Low and high watermark of every partition, or undefined when the topic does not exist. */
  async topicOffsets(topic: string): Promise<TopicOffsets[] | undefined> {
    return this.call("topicOffsets", async (admin) => {
      if (!(await this.exists(admin, topic))) return undefined;
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.sort((a, b) => a.partition - b.partition);
    });
  }

  /**
   * Creates `topic` when it is missing; an existing topic is left as it is (partitions and configuration). Safe to
   * race: another worker creating the same topic at the same moment is not an error. Returns whether this call
   * created it.
   */
  async ensureTopic(topic: string, options: { partitions?: number } = {}): Promise<{ created: boolean }> {
    validateTopic(topic);
    const partitions = positiveInt(options.partitions, "partitions", this.defaultPartitions);
    const created = await this.createMissing([{ topic, partitions }]);
    return { created: created.length > 0 };
  }

  /**
   * The fleet's own topics: the compacted control topic (desired state, one partition so every worker reads one
   * ordered log) and the task-events topic (worker → coordinator reports, keyed by task id).
   */
  async ensureSystemTopics(options: { taskEventPartitions?: number } = {}): Promise<{ created: string[] }> {
    const created = await this.createMissing([
      { topic: SYSTEM_TOPICS.control, partitions: 1, configs: { "cleanup.policy": "compact" } },
      {
        topic: SYSTEM_TOPICS.taskEvents,
        partitions: positiveInt(options.taskEventPartitions, "taskEventPartitions", this.defaultPartitions),
        configs: { "retention.ms": String(7 * 24 * 3600 * 1000) },
      },
    ]);
    return { created };
  }

  /**
   * The agent's topics: its main topic (created only if missing; an existing one keeps its partitions), the retry
   * topic and the dead-letter topic, both with the main topic's partition count so retries spread like the
   * originals. A retry or DLQ topic with fewer partitions than the main topic (the main topic grew) is grown too.
   */
  async ensureAgentTopics(
    topic: string,
    agent: string,
    options: { partitions?: number } = {},
  ): Promise<AgentTopics> {
    const names = agentNames(topic, agent);
    const requested = positiveInt(options.partitions, "partitions", this.defaultPartitions);
    const created = await this.createMissing([{ topic, partitions: requested }]);
    // Read the count back: when two workers raced with different requests, the winner's count is the truth.
    const partitions = (await this.partitionCounts([topic])).get(topic);
    if (partitions === undefined) {
      throw new BusError("ADMIN_FAILED", `topic "${topic}" vanished right after it was created`);
    }
    created.push(
      ...(await this.createMissing([
        { topic: names.retryTopic, partitions },
        { topic: names.dlqTopic, partitions },
      ])),
    );
    await this.growTo([names.retryTopic, names.dlqTopic], partitions);
    if (created.length > 0) this.logger.info({ topic, agent, created, partitions }, "agent topics created");
    return { topic, retryTopic: names.retryTopic, dlqTopic: names.dlqTopic, partitions, created };
  }

  /** Deletes `topic`; a missing topic is a no-op. Returns whether it existed. */
  async deleteTopic(topic: string): Promise<boolean> {
    validateTopic(topic);
    const deleted = await this.deleteTopics([topic]);
    return deleted.length > 0;
  }

  /**
   * Deletes the agent's retry and/or dead-letter topic (never the main topic: other agents may read it). Call it
   * after the agent's consumers are gone; missing topics are a no-op. Returns the topics that were deleted.
   */
  async deleteAgentTopics(
    topic: string,
    agent: string,
    options: { retry?: boolean; dlq?: boolean },
  ): Promise<{ deleted: string[] }> {
    const names = agentNames(topic, agent);
    const targets = [
      ...(options.retry === true ? [names.retryTopic] : []),
      ...(options.dlq === true ? [names.dlqTopic] : []),
    ];
    return { deleted: await this.deleteTopics(targets) };
  }

  /** Deletes every record of `topic` before the given offsets (per partition). Used by the DLQ purge. */
  async deleteRecordsBefore(
    topic: string,
    offsets: Array<{ partition: number; offset: string }>,
  ): Promise<void> {
    if (offsets.length === 0) return;
    await this.call("deleteRecordsBefore", (admin) => admin.deleteTopicRecords(topic, offsets));
  }

  // --- consumer groups -----------------------------------------------------------------------------------------

  /** Consumer groups whose id starts with `prefix`, with members and their current assignment. */
  async listGroups(options: { prefix?: string } = {}): Promise<GroupInfo[]> {
    const prefix = options.prefix ?? RESERVED_PREFIX;
    return this.call("listGroups", async (admin) => {
      const ids = (await admin.listGroups()).filter((id) => id.startsWith(prefix)).sort();
      if (ids.length === 0) return [];
      const described = await admin.describeGroups(ids);
      return described
        .map(({ groupId, state, members }) => ({ groupId, state, members }))
        .sort((a, b) => a.groupId.localeCompare(b.groupId));
    });
  }

  /** The group's state and members; `state` is "Dead" with no members when the group does not exist. */
  async describeGroup(groupId: string): Promise<GroupInfo> {
    return this.call("describeGroup", async (admin) => {
      const groups = await admin.describeGroups([groupId]);
      const group = groups.find((candidate) => candidate.groupId === groupId);
      return { groupId, state: group?.state ?? "Dead", members: group?.members ?? [] };
    });
  }

  /**
   * Lag of `groupId` on `topics`, per partition and in total. Reads committed offsets from the group coordinator, so
   * it works while the group has no members (a paused agent). A partition the group never committed counts every
   * record still in the log. Topics that do not exist are left out.
   */
  async groupLag(groupId: string, topics: string[]): Promise<GroupLag> {
    return this.call("groupLag", async (admin) => {
      const existing = await this.existing(admin, topics);
      const partitions: PartitionLag[] = [];
      if (existing.length > 0) {
        const committed = await admin.fetchOffsets(groupId, existing);
        for (const topic of existing) {
          const watermarks = await admin.fetchTopicOffsets(topic);
          const byPartition = new Map(
            committed
              .find((entry) => entry.topic === topic)
              ?.partitions.map((p) => [p.partition, p.offset]) ?? [],
          );
          for (const { partition, low, high } of watermarks) {
            const offset = byPartition.get(partition);
            const hasCommit = offset !== undefined && Number(offset) >= 0;
            // Retention may have deleted records the group never read: they are not lag any more.
            const from = hasCommit ? Math.max(Number(offset), Number(low)) : Number(low);
            partitions.push({
              topic,
              partition,
              committed: hasCommit ? offset : null,
              high,
              lag: Math.max(0, Number(high) - from),
            });
          }
        }
      }
      partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
      return { groupId, partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0) };
    });
  }

  /**
   * Deletes a consumer group and its committed offsets. Refuses (GROUP_NOT_EMPTY) while members are in it: deleting
   * a live group would only make its members' next commits fail. A group that does not exist is a no-op; returns
   * whether a group was deleted.
   */
  async deleteGroup(groupId: string): Promise<boolean> {
    return this.call("deleteGroup", async (admin) => {
      const groups = await admin.describeGroups([groupId]);
      const group = groups.find((candidate) => candidate.groupId === groupId);
      if (group === undefined || group.state === "Dead") return false;
      if (group.members.length > 0) throw notEmpty(groupId, group.members.length);
      try {
        await admin.deleteGroups([groupId]);
        this.logger.info({ groupId }, "consumer group deleted");
        return true;
      } catch (error) {
        if (hasBrokerError(error, "GROUP_ID_NOT_FOUND")) return false;
        // A member joined between the describe and the delete.
        if (hasBrokerError(error, "NON_EMPTY_GROUP")) throw notEmpty(groupId, undefined);
        throw error;
      }
    });
  }

  // --- internals -----------------------------------------------------------------------------------------------

  private running(): AdminDriver {
    if (this.lifecycle.stopped) throw new BusError("STOPPED", "bus admin is stopped");
    if (this.admin === undefined)
      throw new BusError("NOT_STARTED", "bus admin is not started; call start() first");
    return this.admin;
  }

  /**
   * Runs one admin operation. Client errors become ADMIN_FAILED; a stale-topic failure (see the class comment)
   * replaces the client and runs the operation once more.
   */
  private async call<T>(operation: string, fn: (admin: AdminDriver) => Promise<T>): Promise<T> {
    const admin = this.running();
    try {
      return await this.using(admin, fn);
    } catch (error) {
      if (error instanceof BusError) throw error;
      if (!hasBrokerError(error, "UNKNOWN_TOPIC_OR_PARTITION")) throw this.wrap(operation, error);
      this.logger.info({ operation, err: error }, "admin metadata names a deleted topic; reconnecting");
      try {
        await this.replaceClient(admin);
        return await this.using(this.running(), fn);
      } catch (retryError) {
        throw this.wrap(operation, retryError);
      }
    }
  }

  private wrap(operation: string, error: unknown): Error {
    if (error instanceof BusError) return error;
    return new BusError("ADMIN_FAILED", `Kafka admin ${operation} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }

  /** Runs `fn` on `admin`, counted, so a replaced client is closed only once its last call has finished. */
  private async using<T>(admin: AdminDriver, fn: (admin: AdminDriver) => Promise<T>): Promise<T> {
    this.inUse.set(admin, (this.inUse.get(admin) ?? 0) + 1);
    try {
      return await fn(admin);
    } finally {
      const left = (this.inUse.get(admin) ?? 1) - 1;
      if (left > 0) {
        this.inUse.set(admin, left);
      } else {
        this.inUse.delete(admin);
        if (this.retired.delete(admin)) this.close(admin);
      }
    }
  }

  private close(admin: AdminDriver): void {
    const closing: Promise<void> = admin
      .disconnect()
      .catch((error: unknown) => this.logger.warn({ err: error }, "admin disconnect failed"))
      .finally(() => this.closing.delete(closing));
    this.closing.add(closing);
  }

  /** Swaps in a fresh client (empty metadata cache), unless a concurrent call already replaced `failed`. */
  private replaceClient(failed: AdminDriver): Promise<void> {
    if (this.admin !== failed) return this.replacing ?? Promise.resolve();
    this.replacing ??= (async () => {
      const fresh = createAdminDriver(this.connection, this.logger);
      try {
        await fresh.connect();
      } catch (error) {
        await fresh.disconnect().catch(() => undefined);
        throw error;
      }
      if (this.lifecycle.stopped) {
        await fresh.disconnect().catch(() => undefined);
        throw new BusError("STOPPED", "bus admin is stopped");
      }
      this.admin = fresh;
      if (this.inUse.has(failed)) this.retired.add(failed);
      else this.close(failed);
    })().finally(() => {
      this.replacing = undefined;
    });
    return this.replacing;
  }

  /** listTopics asks for all topics and never adds to kafkajs' remembered set, so it is safe for existence checks. */
  private async exists(admin: AdminDriver, topic: string): Promise<boolean> {
    return (await admin.listTopics()).includes(topic);
  }

  private async existing(admin: AdminDriver, topics: string[]): Promise<string[]> {
    const all = new Set(await admin.listTopics());
    return [...new Set(topics)].filter((topic) => all.has(topic));
  }

  private async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    return this.call("partitionCounts", async (admin) => {
      const present = await this.existing(admin, topics);
      const counts = new Map<string, number>();
      if (present.length === 0) return counts;
      const metadata = await admin.fetchTopicMetadata(present);
      for (const { topic, partitions } of metadata) counts.set(topic, partitions.length);
      return counts;
    });
  }

  /**
   * Creates the topics that do not exist yet and waits until every one has a leader; returns the ones this call
   * created. A topic deleted while this waits (a cleanup of the same agent's earlier deletion, another process) is
   * created again rather than waited for, so the call ends with every topic present or fails at the leader
   * deadline; it never waits out the deadline for a topic that no longer exists.
   */
  private async createMissing(
    topics: Array<{ topic: string; partitions: number; configs?: Record<string, string> }>,
  ): Promise<string[]> {
    const created = new Set<string>();
    await this.waitForLeaders(
      topics.map((t) => t.topic),
      async () => {
        for (const topic of await this.createAbsent(topics)) created.add(topic);
      },
    );
    return [...created];
  }

  /** One pass: creates the topics the cluster does not list; returns the ones this call created. */
  private createAbsent(
    topics: Array<{ topic: string; partitions: number; configs?: Record<string, string> }>,
  ): Promise<string[]> {
    return this.call("createTopics", async (admin) => {
      const present = new Set(await admin.listTopics());
      const toCreate = topics.filter((t) => !present.has(t.topic));
      if (toCreate.length === 0) return [];
      // One request per topic, so each result says exactly whether this call created that topic.
      const results = await Promise.all(
        toCreate.map(async ({ topic, partitions, configs }) => {
          // false: the broker answered TOPIC_ALREADY_EXISTS — another worker won the race, which is fine.
          // Leaders are awaited for every topic, including ones another worker created.
          const created = await admin.createTopic({
            topic,
            partitions,
            replicationFactor: this.replicationFactor,
            configs: { "max.message.bytes": String(this.maxMessageBytes), ...configs },
          });
          return created ? topic : undefined;
        }),
      );
      return results.filter((topic): topic is string => topic !== undefined);
    });
  }

  /**
   * Undefined when every topic has a leader for every partition; otherwise why not (the metadata answer, or the
   * error of asking: right after creation, or while a deletion is under way, the broker may not know the topic).
   */
  private async withoutLeader(topics: string[]): Promise<unknown> {
    try {
      // Not through call(): "unknown topic" is expected here for a moment and must not replace the client.
      // fetchTopicMetadata does not add to kafkajs' remembered topics, so it cannot poison it either.
      const metadata = await this.using(this.running(), (admin) => admin.fetchTopicMetadata(topics));
      const ready =
        metadata.length === topics.length &&
        metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      return ready ? undefined : new Error(`not every partition has a leader yet`);
    } catch (error) {
      if (error instanceof BusError) throw error;
      return error;
    }
  }

  /** Waits until every partition of `topics` has a leader, running `eachRound` before every look. */
  private async waitForLeaders(topics: string[], eachRound?: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + this.leaderWaitTimeoutMs;
    for (;;) {
      await eachRound?.();
      const waiting = await this.withoutLeader(topics);
      if (waiting === undefined) return;
      if (Date.now() >= deadline) {
        throw new BusError(
          "ADMIN_FAILED",
          `topics ${topics.join(", ")} have no leader after ${this.leaderWaitTimeoutMs} ms`,
          { cause: waiting },
        );
      }
      await sleep(100);
    }
  }

  /** Grows topics to `partitions` when they have fewer (never shrinks: Kafka cannot). */
  private async growTo(topics: string[], partitions: number): Promise<void> {
    const counts = await this.partitionCounts(topics);
    const smaller = topics.filter((topic) => (counts.get(topic) ?? partitions) < partitions);
    if (smaller.length === 0) return;
    await this.call("createPartitions", async (admin) => {
      try {
        await admin.createPartitions(smaller.map((topic) => ({ topic, count: partitions })));
      } catch (error) {
        // Another worker grew them first.
        if (!hasBrokerError(error, "INVALID_PARTITIONS")) throw error;
      }
    });
    this.logger.info({ topics: smaller, partitions }, "topics grown to the main topic's partition count");
    await this.waitForLeaders(smaller);
  }

  private async deleteTopics(topics: string[]): Promise<string[]> {
    if (topics.length === 0) return [];
    return this.call("deleteTopics", async (admin) => {
      const present = await this.existing(admin, topics);
      if (present.length === 0) return [];
      try {
        await admin.deleteTopics(present);
      } catch (error) {
        // Deleted by someone else between the listing and the request: the outcome we wanted.
        if (!hasBrokerError(error, "UNKNOWN_TOPIC_OR_PARTITION")) throw error;
      }
      // A broker may list a deleted topic a moment longer (its metadata catches up with the controller's): return
      // once it does not, so whoever asks next — another delete, a re-create, a publish — sees the deletion.
      const deadline = Date.now() + this.leaderWaitTimeoutMs;
      while ((await this.existing(admin, present)).length > 0) {
        if (Date.now() >= deadline) {
          this.logger.warn({ topics: present }, "deleted topics are still listed");
          break;
        }
        await sleep(100);
      }
      this.logger.info({ topics: present }, "topics deleted");
      return present;
    });
  }
}

function notEmpty(groupId: string, members: number | undefined): BusError {
  const count = members === undefined ? "members" : `${members} member${members === 1 ? "" : "s"}`;
  return new BusError(
    "GROUP_NOT_EMPTY",
    `consumer group "${groupId}" still has ${count}; stop its consumers (pause or delete the agent) first`,
    { field: "groupId" },
  );
}
