import type { RecordHeaders } from "../headers";

/**
 * The group consumer every reader of bus-kafka is built on (the agent engine, the record consumer, the control
 * follower, the DLQ reader): join a consumer group, be told what is assigned, take batches per partition, pause and
 * resume per partition, commit explicitly. Each Kafka client implements it in `driver/<client>/consumer.ts`;
 * `createGroupConsumer` (driver/factories.ts) picks one from `connection.client`. What the clients do differently (offset and header
 * types, how an assignment change is observed, how fetching is paused) is settled here, at the driver edge.
 */
export interface GroupConsumer {
  /**
   * Connects, subscribes and joins the group; fetching starts once partitions are assigned. Rejects (with
   * everything it opened closed again) when the brokers cannot be reached. Call once.
   */
  start(): Promise<void>;
  /**
   * Leaves the group and closes the connections, bounded by `stopTimeoutMs`: a batch being handled is waited for
   * (within the bound), nothing is fetched or handed over after it returns. Idempotent; safe before start().
   */
  stop(): Promise<void>;
  /**
   * Stops fetching `topic` (all its partitions, or only `partitions`). Records of a paused partition are not handed
   * to `onBatch` — also not those of a fetch already under way — and nothing is skipped: when it resumes, fetching
   * continues after the last record `onBatch` took. Takes effect at once; pausing twice is a no-op.
   */
  pause(topic: string, partitions?: number[]): void;
  /** Resumes `topic` (all of it — a whole-topic resume also clears its partition pauses — or only `partitions`). */
  resume(topic: string, partitions?: number[]): void;
  /** Makes the next fetch of a partition start at `offset` (applied when it is assigned, if it is not yet). */
  seek(topic: string, partition: number, offset: string): void;
  /** Commits, for each partition, the offset of the next record to consume. Rejects when the broker refuses. */
  commit(offsets: CommitOffset[]): Promise<void>;
}

export interface CommitOffset {
  topic: string;
  partition: number;
  /** The next offset to consume (the last completed + 1), as a decimal string. */
  offset: string;
}

/** One record as fetched, the same from every driver. */
export interface GroupMessage {
  /** Decimal string (offsets are 64-bit). */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Epoch ms as a decimal string. */
  readonly timestamp: string;
  /** Headers as UTF-8 strings, first value of a repeated name. Decoded on first call: most records never need them. */
  headers(): RecordHeaders;
}

/** Consecutive records of one partition, in offset order. */
export interface GroupBatch {
  readonly topic: string;
  readonly partition: number;
  /** The partition's high watermark when fetched (offset of the next record to be written). */
  readonly highWatermark: string;
  readonly messages: GroupMessage[];
  /**
   * The offset of the last record the fetch covered, counting records that are never handed over (transaction
   * markers, aborted records): when it reaches a bound, the partition has been read up to it.
   */
  readonly lastOffset: string;
  /**
   * Tells the group this member is alive while a batch takes long (kafkajs heartbeats only between batches;
   * @platformatic/kafka heartbeats on its own timer, so this is a no-op there).
   */
  heartbeat(): Promise<void>;
}

export interface GroupConsumerCallbacks {
  /**
   * The member's full current assignment, topic → partitions (every topic subscribed, possibly empty). Called
   * after each change, and again after a crash once the member is back in the group (even when unchanged).
   */
  onAssignment?(assignment: Record<string, number[]>): void;
  /** Partitions are about to move (or have just moved) away from this member: commit what is complete now. */
  onRevoking?(): void;
  /**
   * A fetched batch. Returns how many of `batch.messages` it took, from the front: the rest — a retry head that is
   * not due, say — is fetched again from the first one not taken (after a resume, if the callback paused the
   * partition). Must not throw: a throw crashes the consumer (see `onCrash`) and nothing of the batch is taken.
   */
  onBatch(batch: GroupBatch): number | Promise<number>;
  /** A fetch response came back (possibly empty): the fetch loop is alive. */
  onFetch?(): void;
  /**
   * The member lost the group (broker gone, session expired, a throwing `onBatch`). `restarting`: the driver
   * rejoins by itself after a backoff and reports the assignment again; otherwise it gave up, and the owner must
   * stop it and create another. Until the next `onAssignment`, partitions may have moved to another member.
   */
  onCrash?(error: unknown, restarting: boolean): void;
}

export interface GroupConsumerOptions extends GroupConsumerCallbacks {
  groupId: string;
  /** The topics to read; `fromBeginning` is where a partition without a committed offset starts. */
  topics: Array<{ topic: string; fromBeginning: boolean }>;
  /** A member that stops heartbeating loses its partitions after this. @default 30000 */
  sessionTimeoutMs?: number;
  /** @default 3000 */
  heartbeatIntervalMs?: number;
  /** How long the group waits for members to rejoin in a rebalance (classic protocol). @default 60000 */
  rebalanceTimeoutMs?: number;
  /** Longest wait of a fetch on an idle partition. @default 100 */
  maxWaitTimeMs?: number;
  /** Most bytes fetched per partition per request: bounds a batch. @default 1 MiB */
  maxBytesPerPartition?: number;
  /** Partitions whose batches are handled at the same time (each partition's batches stay in order). @default 1 */
  partitionsConcurrently?: number;
  /**
   * Partitions this member owned before (a consumer rebuilt after a crash asks to keep them). Used by drivers whose
   * assignment runs in the client (kafkajs's sticky assignor); ignored where the broker assigns.
   */
  previousAssignment?: Record<string, number[]>;
  /** Bound of stop(). @default 10000 */
  stopTimeoutMs?: number;
}
