// About 740 lines: the whole group consumer of the @platformatic/kafka driver — its own fetch loop, per-partition
// positions and pauses, rebalances, commits and rejoining after a broker restart — share one state (the member, its
// assignment, the positions), and each step depends on the others' invariants; the pure parts are in records.ts,
// membership-watch.ts and groups.ts (see the class comment).
import type { Logger } from "pino";
import type { KafkaConnection } from "../../config";
import { backoffMs } from "../../engine/backoff";
import { withDeadline } from "../../util/deadline";
import type { CommitOffset, GroupBatch, GroupConsumer, GroupConsumerOptions } from "../consumer";
import { stickyAssign, type Ownership } from "../../engine/sticky-assignment";
import { STICKY_ASSIGNER_NAME, decodeOwnership, encodeOwnership } from "../sticky-protocol";
import { platformaticBaseOptions } from "./connection";
import { platformatic, type Platformatic } from "./load";
import { MembershipWatch } from "./membership-watch";
import { fetchedRecords, positionAfter } from "./records";

type Consumer = Platformatic.Consumer;
type MessagesStream = Platformatic.MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/** ListOffsets timestamps. */
const EARLIEST = -2n;
const LATEST = -1n;
/** Fetch error codes the loop answers itself (everything else refreshes metadata and retries). */
const OFFSET_OUT_OF_RANGE = 1;
/** Errors that no rejoin mends: the driver gives up and says so (`onCrash(…, false)`). */
const FATAL = new Set([
  "GROUP_AUTHORIZATION_FAILED",
  "TOPIC_AUTHORIZATION_FAILED",
  "INCONSISTENT_GROUP_PROTOCOL",
  "UNSUPPORTED_VERSION",
]);

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly tp: string;
  /** The next offset to fetch; undefined until it is known (committed offset, seek, or the topic's fallback). */
  position: bigint | undefined;
  /** The position was out of range: start again at the fallback (earliest or latest), not at the committed offset. */
  reset: boolean;
}

/** One membership: the platformatic consumer, the stream that holds its subscription, and its heartbeat watch. */
interface Member {
  consumer: Consumer;
  anchor: MessagesStream;
  watch?: MembershipWatch;
}

interface FetchedBatch extends GroupBatch {
  readonly state: PartitionState;
  /** The position the fetch asked for: if the partition's position moved since (seek, reset), the batch is stale. */
  readonly requested: bigint;
}

type Phase = "new" | "starting" | "running" | "stopping" | "stopped";

/**
 * {@link GroupConsumer} on @platformatic/kafka, in the classic group protocol with the package's sticky assignor
 * (the same rule, name and join metadata as the kafkajs driver: members of both can share a group). Kafka 4's
 * consumer group protocol (KIP-848) was tried first and works, but its broker-side assignors do not fit a group
 * reading an agent's topic and its retry topic: `range` moves partitions between the members that stay on every
 * join and leave (their in-flight work is aborted and run again), `uniform` balances only the total, giving one
 * member all of the agent's partitions and another all of its retries (docs/kafka-clients.md).
 *
 * - **A rebalance does not stop fetching.** This driver runs its own fetch loop on `consumer.fetch`, with a
 *   position per partition, and the library keeps the old assignment until the new one is synced: the partitions a
 *   member keeps are fetched all through a rebalance, and keep their positions (nothing is read again). The loop
 *   also gives per-partition pause (a paused partition is not fetched; a batch of a partition paused meanwhile is
 *   dropped unhanded) and "fetch again from the first record not taken". The library's stream is still opened, and
 *   kept paused: it holds the member's subscription, and its connection pool (separate from the group
 *   coordinator's, so a long fetch never delays a heartbeat) carries the driver's fetches.
 * - **Assignments** are reported after every sync (`consumer:group:join`), `onRevoking` when a rebalance begins.
 * - **Rejoining.** The library rejoins after a rebalance or an expired membership by itself. After a heartbeat that
 *   fails otherwise (a broker restarting), the library 1.x heartbeats no more: a {@link MembershipWatch} joins again
 *   for it, and reports the membership lost (`onCrash(…, true)`) only once the session may have expired. A member
 *   whose rejoin failed, whose subscription stream died, or whose coordinator does not take it back, is replaced by
 *   a new member after a backoff.
 */
export class PlatformaticGroupConsumer implements GroupConsumer {
  private readonly logger: Logger;
  private readonly fromBeginning: Map<string, boolean>;
  private readonly maxWaitTimeMs: number;
  private readonly maxBytesPerPartition: number;
  private readonly concurrency: number;
  private readonly stopTimeoutMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private phase: Phase = "new";
  private member: Member | undefined;
  private readonly assigned = new Map<string, PartitionState>();
  private assignmentKey: string | undefined;
  private readonly pausedTopics = new Set<string>();
  private readonly pausedPartitions = new Set<string>();
  private readonly seeks = new Map<string, bigint>();
  /** The membership is in doubt since a crash was reported: the next good heartbeat reports the assignment again. */
  private lost = false;
  private rebuildTimer: NodeJS.Timeout | undefined;
  private rebuilding: Promise<void> | undefined;
  private rebuildAttempts = 0;
  private startPromise: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopPromise: Promise<void> | undefined;
  /** What this member owns, sent in its join metadata so the sticky assignor keeps it here. */
  private owned: Ownership;
  /**
   * The protocol offered at every (re)join. The library reads `metadata` each time it joins, so updating it keeps
   * the join metadata current without a new consumer.
   */
  private readonly protocol: { name: string; version: number; metadata: Buffer };

  constructor(
    private readonly connection: KafkaConnection,
    logger: Logger,
    private readonly options: GroupConsumerOptions,
  ) {
    this.logger = logger.child({ driver: "platformatic", groupId: options.groupId });
    this.fromBeginning = new Map(options.topics.map((t) => [t.topic, t.fromBeginning]));
    this.maxWaitTimeMs = options.maxWaitTimeMs ?? 100;
    this.maxBytesPerPartition = options.maxBytesPerPartition ?? 1024 * 1024;
    this.concurrency = Math.max(1, options.partitionsConcurrently ?? 1);
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3000;
    this.owned = options.previousAssignment ?? {};
    this.protocol = { name: STICKY_ASSIGNER_NAME, version: 1, metadata: encodeOwnership(this.owned) };
  }

  start(): Promise<void> {
    if (this.phase !== "new") return Promise.reject(new Error("a group consumer starts once"));
    this.phase = "starting";
    this.startPromise = this.doStart();
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    try {
      this.member = await this.join();
    } catch (error) {
      this.phase = "stopped";
      throw error;
    }
    if (this.phase !== "starting") {
      // stop() began while joining: it waits for this, and the new member leaves at once.
      await this.leave(this.member);
      this.member = undefined;
      return;
    }
    this.phase = "running";
    this.observe(this.member);
    this.loop = this.fetchLoop();
  }

  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    const wasRunning = this.phase === "running";
    this.phase = this.phase === "new" ? "stopped" : "stopping";
    clearTimeout(this.rebuildTimer);
    this.rebuildTimer = undefined;
    this.wake?.();
    if (!wasRunning) {
      // A start under way sees the phase and closes what it opened.
      await this.startPromise?.catch(() => undefined);
      this.phase = "stopped";
      return;
    }
    const deadline = Date.now() + this.stopTimeoutMs;
    const remaining = (): number => Math.max(0, deadline - Date.now());
    // The loop ends after the fetch under way (at most maxWaitTimeMs) and the batch being handed over.
    await withDeadline(this.loop ?? Promise.resolve(), remaining(), () => {
      this.logger.warn({ stopTimeoutMs: this.stopTimeoutMs }, "a batch was still being handled at stop");
      return undefined;
    });
    await this.rebuilding;
    const member = this.member;
    this.member = undefined;
    if (member) await this.leave(member, remaining());
    this.assigned.clear();
    this.phase = "stopped";
  }

  pause(topic: string, partitions?: number[]): void {
    if (partitions === undefined) this.pausedTopics.add(topic);
    else for (const partition of partitions) this.pausedPartitions.add(`${topic}:${partition}`);
  }

  resume(topic: string, partitions?: number[]): void {
    if (partitions === undefined) {
      this.pausedTopics.delete(topic);
      for (const tp of [...this.pausedPartitions]) {
        if (tp.slice(0, tp.lastIndexOf(":")) === topic) this.pausedPartitions.delete(tp);
      }
    } else {
      for (const partition of partitions) this.pausedPartitions.delete(`${topic}:${partition}`);
    }
    this.wake?.();
  }

  seek(topic: string, partition: number, offset: string): void {
    const tp = `${topic}:${partition}`;
    const state = this.assigned.get(tp);
    if (state) {
      state.position = BigInt(offset);
      state.reset = false;
    } else {
      this.seeks.set(tp, BigInt(offset));
    }
    this.wake?.();
  }

  async commit(offsets: CommitOffset[]): Promise<void> {
    const member = this.member;
    if (!member) throw new Error("not a member of the group (rejoining or stopped)");
    await member.consumer.commit({
      offsets: offsets.map(({ topic, partition, offset }) => ({
        topic,
        partition,
        offset: BigInt(offset),
        leaderEpoch: -1,
      })),
    });
  }

  // --- membership ----------------------------------------------------------------------------------------------

  /** A new member: the consumer joins the group and opens the subscription stream, kept paused. */
  private async join(): Promise<Member> {
    const { Consumer } = platformatic();
    const consumer = new Consumer({
      ...platformaticBaseOptions(this.connection),
      groupId: this.options.groupId,
      sessionTimeout: this.sessionTimeoutMs,
      heartbeatInterval: this.heartbeatIntervalMs,
      rebalanceTimeout: this.options.rebalanceTimeoutMs ?? Math.max(this.sessionTimeoutMs, 60_000),
      protocols: [this.protocol],
      partitionAssigner: (_leader, members, topics, metadata) => this.assign(members, topics, metadata),
      autocommit: false,
      maxWaitTime: this.maxWaitTimeMs,
    });
    try {
      const anchor = await consumer.consume({
        topics: [...this.fromBeginning.keys()],
        mode: "latest",
        autocommit: false,
      });
      return { consumer, anchor };
    } catch (error) {
      await closeConsumer(consumer).catch(() => undefined);
      throw error;
    }
  }

  /** The group leader's side of the sticky assignor: {@link stickyAssign} over what each member says it owns. */
  private assign(
    members: Map<string, Platformatic.ExtendedGroupProtocolSubscription>,
    topics: Set<string>,
    metadata: Platformatic.ClusterMetadata,
  ): Platformatic.GroupPartitionsAssignments[] {
    const partitionsByTopic: Record<string, number[]> = {};
    for (const topic of topics) {
      const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
      partitionsByTopic[topic] = Array.from({ length: count }, (_, i) => i);
    }
    const previous = [...members.values()].map(({ memberId, metadata: userData }) => ({
      memberId,
      owned: decodeOwnership(typeof userData === "string" ? Buffer.from(userData) : userData),
    }));
    return Object.entries(stickyAssign(partitionsByTopic, previous)).map(([memberId, owned]) => ({
      memberId,
      assignments: new Map(
        Object.entries(owned).map(([topic, partitions]) => [topic, { topic, partitions }]),
      ),
    }));
  }

  /** Wires a member's events; every listener ignores a member that is no longer current. */
  private observe(member: Member): void {
    const { consumer, anchor } = member;
    const current = (): boolean => this.member === member && this.phase === "running";
    // The stream only holds the subscription: it must never flow, whoever resumes it. Its fetch loop would
    // otherwise read, and drop, everything this driver reads.
    anchor.pause();
    anchor.on("resume", () => anchor.pause());
    anchor.on("error", (error: unknown) => {
      if (current()) this.replace(member, error);
    });
    anchor.on("close", () => {
      if (current()) this.replace(member, new Error("the group subscription stream closed"));
    });
    const watch = new MembershipWatch(consumer, {
      sessionTimeoutMs: this.sessionTimeoutMs,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      logger: this.logger,
      isFatal: (error) => {
        const id = apiIdOf(error);
        return id !== undefined && FATAL.has(id);
      },
      clusterAnswers: async () => {
        consumer.clearMetadata();
        await consumer.metadata({ topics: [...this.fromBeginning.keys()] });
        return true;
      },
      onLost: (error) => {
        if (current()) this.crashed(error, true);
      },
      onStuck: (error) => {
        if (!current()) return;
        this.logger.warn({ err: error }, "the group coordinator does not take the member back; joining anew");
        this.replace(member, error);
      },
      onFatal: (error) => {
        if (current()) this.giveUp(member, error);
      },
    });
    member.watch = watch;
    // Every sync reports the assignment, changed or not (the engine counts itself a member again); a good
    // heartbeat after a lost membership reports it too.
    consumer.on("consumer:group:join", () => {
      if (!current()) return;
      watch.joined();
      this.checkAssignment(consumer, true);
    });
    consumer.on("consumer:heartbeat:start", () => {
      if (current()) watch.heartbeatSent();
    });
    consumer.on("consumer:heartbeat:end", () => {
      if (!current()) return;
      watch.heartbeatOk();
      this.checkAssignment(consumer, false);
    });
    consumer.on("consumer:group:rebalance", () => {
      if (current()) this.options.onRevoking?.();
    });
    // A rebalance or a forgotten member id never gets here: the library rejoins for those by itself.
    consumer.on("consumer:heartbeat:error", (payload: { error: unknown }) => {
      if (current()) watch.heartbeatFailed(payload.error);
    });
    // A rejoin that failed for good: the library stops heartbeating and says so here (unheard, it would throw).
    consumer.on("error", (error: unknown) => {
      if (current()) this.replace(member, error);
    });
    this.checkAssignment(consumer, true);
  }

  private crashed(error: unknown, restarting: boolean): void {
    if (this.lost && restarting) return;
    this.lost = true;
    this.logger.warn({ err: error, restarting }, "group membership lost");
    this.options.onCrash?.(error, restarting);
  }

  /** Replaces a member that cannot recover: leave it (bounded), join again after a backoff, from committed offsets. */
  private replace(member: Member, error: unknown): void {
    if (this.member !== member || this.phase !== "running") return;
    this.member = undefined;
    this.assigned.clear();
    this.assignmentKey = undefined;
    this.crashed(error, true);
    void this.leave(member, 5000);
    this.scheduleRejoin();
  }

  private scheduleRejoin(): void {
    if (this.phase !== "running" || this.rebuildTimer !== undefined) return;
    const waitMs = backoffMs(++this.rebuildAttempts, 500, 30_000);
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      this.rebuilding = this.rejoin().finally(() => (this.rebuilding = undefined));
    }, waitMs);
  }

  private async rejoin(): Promise<void> {
    if (this.phase !== "running") return;
    let member: Member;
    try {
      member = await this.join();
    } catch (error) {
      this.logger.warn({ err: error }, "rejoining the group failed; trying again");
      this.scheduleRejoin();
      return;
    }
    if (this.phase !== "running") {
      await this.leave(member);
      return;
    }
    this.rebuildAttempts = 0;
    this.member = member;
    this.logger.info({}, "rejoined the group");
    this.observe(member);
    this.wake?.();
  }

  private giveUp(member: Member, error: unknown): void {
    if (this.member !== member) return;
    this.member = undefined;
    this.assigned.clear();
    this.lost = false;
    this.crashed(error, false);
    void this.leave(member, 5000);
  }

  /** Closes the stream, then the consumer (which leaves the group), within `timeoutMs`. Never throws. */
  private async leave(member: Member, timeoutMs = this.stopTimeoutMs): Promise<void> {
    const { consumer, anchor } = member;
    member.watch?.stop();
    anchor.removeAllListeners("resume");
    anchor.removeAllListeners("close");
    // A stream error while closing is of no interest any more; without a listener it would be thrown.
    anchor.removeAllListeners("error");
    anchor.on("error", () => undefined);
    for (const event of [
      "consumer:heartbeat:start",
      "consumer:heartbeat:end",
      "consumer:group:join",
      "consumer:group:rebalance",
      "consumer:heartbeat:error",
      "error",
    ] as const) {
      consumer.removeAllListeners(event);
    }
    consumer.on("error", () => undefined);
    const closing = (async () => {
      await anchor.close().catch(() => undefined);
      await closeConsumer(consumer).catch((error: unknown) => {
        this.logger.warn({ err: error }, "leaving the group failed");
      });
    })();
    await withDeadline(closing, timeoutMs, () => {
      this.logger.warn({ timeoutMs }, "leaving the group timed out; going on");
      return undefined;
    });
  }

  /**
   * Compares the library's view of the assignment with the last one reported; reports it when it changed, after a
   * crash, or when `always` (a sync).
   */
  private checkAssignment(consumer: Consumer, always: boolean): void {
    const assignment: Record<string, number[]> = {};
    for (const topic of this.fromBeginning.keys()) assignment[topic] = [];
    // Null until the first sync.
    if (consumer.assignments === null) return;
    for (const { topic, partitions } of consumer.assignments) {
      if (assignment[topic] !== undefined) assignment[topic] = [...partitions].sort((a, b) => a - b);
    }
    const key = JSON.stringify(assignment);
    if (key === this.assignmentKey && !this.lost && !always) return;
    const next = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) next.add(`${topic}:${partition}`);
    }
    const revoked = [...this.assigned.keys()].filter((tp) => !next.has(tp));
    if (revoked.length > 0) this.options.onRevoking?.();
    for (const tp of revoked) this.assigned.delete(tp);
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const tp = `${topic}:${partition}`;
        if (!this.assigned.has(tp))
          this.assigned.set(tp, { topic, partition, tp, position: undefined, reset: false });
      }
    }
    this.assignmentKey = key;
    this.lost = false;
    this.owned = Object.fromEntries(
      Object.entries(assignment).filter(([, partitions]) => partitions.length > 0),
    );
    this.protocol.metadata = encodeOwnership(this.owned);
    this.logger.debug({ assignment }, "assignment");
    this.options.onAssignment?.(assignment);
    this.wake?.();
  }

  // --- fetching --------------------------------------------------------------------------------------------------

  private async fetchLoop(): Promise<void> {
    let failures = 0;
    while (this.phase === "running") {
      const member = this.member;
      if (!member) {
        await this.idle(1000);
        continue;
      }
      try {
        await this.initPositions(member);
        const wanted = [...this.assigned.values()].filter(
          (state) => state.position !== undefined && !this.isPaused(state),
        );
        if (wanted.length === 0) {
          // Nothing to fetch (all paused, or nothing assigned): the loop still goes round, as a fetch would.
          await this.idle(this.maxWaitTimeMs);
          if (this.phase === "running" && this.member === member) this.options.onFetch?.();
          continue;
        }
        const batches = await this.fetch(member, wanted);
        failures = 0;
        if (this.phase !== "running") break;
        this.options.onFetch?.();
        await this.handOver(member, batches);
      } catch (error) {
        if (this.phase !== "running") break;
        failures++;
        member.consumer.clearMetadata();
        const waitMs = backoffMs(failures, 100, 5000);
        this.logger.debug({ err: error, waitMs }, "fetch failed; retrying");
        await this.idle(waitMs);
      }
    }
  }

  /** Waits until woken (an assignment, a resume, a seek, stop) or `ms` passed. */
  private idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = (): void => done();
      this.wake = wake;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.wake = undefined;
    });
  }

  private isPaused(state: PartitionState): boolean {
    return this.pausedTopics.has(state.topic) || this.pausedPartitions.has(state.tp);
  }

  /** Positions of newly assigned partitions: a pending seek, else the committed offset, else the topic's fallback. */
  private async initPositions(member: Member): Promise<void> {
    const pending = [...this.assigned.values()].filter((state) => state.position === undefined);
    if (pending.length === 0) return;
    for (const state of pending) {
      const seek = this.seeks.get(state.tp);
      if (seek !== undefined) {
        state.position = seek;
        this.seeks.delete(state.tp);
      }
    }
    const current = (state: PartitionState): boolean =>
      this.assigned.get(state.tp) === state && state.position === undefined;
    const fromCommitted = pending.filter((state) => current(state) && !state.reset);
    if (fromCommitted.length > 0) {
      const committed = await member.consumer.listCommittedOffsets({ topics: byTopic(fromCommitted) });
      for (const state of fromCommitted) {
        const offset = committed.get(state.topic)?.[state.partition];
        if (offset !== undefined && offset >= 0n && current(state)) state.position = offset;
      }
    }
    for (const fromBeginning of [true, false]) {
      const rest = pending.filter(
        (state) => current(state) && (this.fromBeginning.get(state.topic) ?? true) === fromBeginning,
      );
      if (rest.length === 0) continue;
      const partitions: Record<string, number[]> = {};
      for (const { topic, partition } of rest) (partitions[topic] ??= []).push(partition);
      const offsets = await member.consumer.listOffsets({
        topics: Object.keys(partitions),
        partitions,
        timestamp: fromBeginning ? EARLIEST : LATEST,
      });
      for (const state of rest) {
        const offset = offsets.get(state.topic)?.[state.partition];
        if (offset !== undefined && current(state)) {
          state.position = offset;
          state.reset = false;
        }
      }
    }
  }

  /** One fetch per partition leader, at once; the batches of every partition that returned records. */
  private async fetch(member: Member, wanted: PartitionState[]): Promise<FetchedBatch[]> {
    const { consumer, anchor } = member;
    const metadata = await consumer.metadata({ topics: [...this.fromBeginning.keys()] });
    const byLeader = new Map<number, Array<{ state: PartitionState; topicId: string; position: bigint }>>();
    let leaderless = false;
    for (const state of wanted) {
      const topic = metadata.topics.get(state.topic);
      const leader = topic?.partitions[state.partition]?.leader;
      if (topic === undefined || leader === undefined || leader < 0) {
        leaderless = true;
        continue;
      }
      let list = byLeader.get(leader);
      if (!list) byLeader.set(leader, (list = []));
      list.push({ state, topicId: topic.id, position: state.position as bigint });
    }
    if (leaderless) consumer.clearMetadata();
    if (byLeader.size === 0) throw new Error("no partition leader known");
    const responses = await Promise.all(
      [...byLeader].map(async ([node, partitions]) => {
        const topics = new Map<string, Platformatic.fetchV17.FetchRequestTopic>();
        for (const { topicId, state, position } of partitions) {
          let topic = topics.get(topicId);
          if (!topic) topics.set(topicId, (topic = { topicId, partitions: [] }));
          topic.partitions.push({
            partition: state.partition,
            fetchOffset: position,
            partitionMaxBytes: this.maxBytesPerPartition,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          });
        }
        let response: Platformatic.fetchV17.FetchResponse | undefined;
        try {
          response = await consumer.fetch({
            node,
            topics: [...topics.values()],
            maxWaitTime: this.maxWaitTimeMs,
            connectionPool: anchor.connections,
          });
        } catch (error) {
          // A partition error fails the whole response; the other partitions' records are in it all the same.
          response = (error as { response?: Platformatic.fetchV17.FetchResponse }).response;
          if (response?.responses === undefined) throw error;
        }
        return { response, partitions };
      }),
    );
    const batches: FetchedBatch[] = [];
    for (const { response, partitions } of responses) {
      const requested = new Map(partitions.map((p) => [`${p.topicId}:${p.state.partition}`, p]));
      for (const topicResponse of response.responses) {
        for (const result of topicResponse.partitions) {
          const entry = requested.get(`${topicResponse.topicId}:${result.partitionIndex}`);
          if (!entry) continue;
          if (result.errorCode !== 0) {
            this.onPartitionError(consumer, entry.state, result.errorCode);
            continue;
          }
          const batch = this.batchOf(entry.state, entry.position, result);
          if (batch) batches.push(batch);
        }
      }
    }
    return batches;
  }

  private onPartitionError(consumer: Consumer, state: PartitionState, code: number): void {
    if (code === OFFSET_OUT_OF_RANGE) {
      // Retention deleted what the position points at (or it is past the end): start again where a new group
      // would, as kafkajs does.
      this.logger.warn(
        { topic: state.topic, partition: state.partition, position: String(state.position) },
        "offset out of range; resetting",
      );
      state.position = undefined;
      state.reset = true;
      return;
    }
    // Leadership moved, or the topic's metadata is stale: ask again.
    consumer.clearMetadata();
  }

  private batchOf(
    state: PartitionState,
    requested: bigint,
    result: Platformatic.fetchV17.FetchResponsePartition,
  ): FetchedBatch | undefined {
    const fetched = fetchedRecords(result.records ?? [], requested);
    if (fetched === undefined) return undefined;
    return {
      state,
      requested,
      topic: state.topic,
      partition: state.partition,
      highWatermark: result.highWatermark.toString(),
      lastOffset: fetched.lastOffset.toString(),
      messages: fetched.messages,
      heartbeat: () => Promise.resolve(),
    };
  }

  /** Hands the batches over, `partitionsConcurrently` partitions at a time, and moves each position past what was taken. */
  private async handOver(member: Member, batches: FetchedBatch[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const batch = batches[next++] as FetchedBatch;
        if (!this.deliverable(member, batch)) continue;
        let taken: number;
        try {
          taken = await this.options.onBatch(batch);
        } catch (error) {
          this.logger.error({ err: error, topic: batch.topic, partition: batch.partition }, "onBatch threw");
          this.replace(member, error);
          return;
        }
        const { state } = batch;
        // Revoked, sought or reset while being handled: that position is no longer this batch's to move.
        if (this.assigned.get(state.tp) !== state || state.position !== batch.requested) continue;
        state.position = positionAfter(batch.messages, BigInt(batch.lastOffset), taken);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
  }

  /** Checked right before each batch: an earlier batch's callback may have paused this partition or stopped us. */
  private deliverable(member: Member, batch: FetchedBatch): boolean {
    return (
      this.phase === "running" &&
      this.member === member &&
      this.assigned.get(batch.state.tp) === batch.state &&
      batch.state.position === batch.requested &&
      !this.isPaused(batch.state)
    );
  }
}

function byTopic(states: PartitionState[]): Array<{ topic: string; partitions: number[] }> {
  const topics = new Map<string, number[]>();
  for (const { topic, partition } of states) {
    let partitions = topics.get(topic);
    if (!partitions) topics.set(topic, (partitions = []));
    partitions.push(partition);
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}

/** The Kafka error name (e.g. GROUP_AUTHORIZATION_FAILED) of a platformatic error, looking into aggregated ones. */
function apiIdOf(error: unknown): string | undefined {
  const visit = (value: unknown, depth: number): string | undefined => {
    if (depth > 4 || value === null || typeof value !== "object") return undefined;
    const { apiId, errors } = value as { apiId?: unknown; errors?: unknown };
    if (typeof apiId === "string") return apiId;
    if (Array.isArray(errors)) {
      for (const inner of errors) {
        const found = visit(inner, depth + 1);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return visit(error, 0);
}

/** Closes a consumer, leaving its group even while a stream is open (`force`). */
function closeConsumer(consumer: Consumer): Promise<void> {
  return new Promise((resolve, reject) =>
    consumer.close(true, (error) => (error ? reject(error) : resolve())),
  );
}
