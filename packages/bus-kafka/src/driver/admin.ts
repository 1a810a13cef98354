export interface NewTopic {
  topic: string;
  partitions: number;
  /** -1 lets the broker decide (`default.replication.factor`). */
  replicationFactor: number;
  configs: Record<string, string>;
}

export interface PartitionLeaders {
  topic: string;
  /** Every partition with its leader's broker id (negative while it has none). */
  partitions: Array<{ partition: number; leader: number }>;
}

export interface PartitionWatermarks {
  partition: number;
  /** First offset still in the log. */
  low: string;
  /** Offset the next record will get. */
  high: string;
}

/** The group protocols a consumer group can speak: the classic rebalance protocol, or KIP-848's. */
export type GroupProtocol = "classic" | "consumer";

export interface DriverGroupMember {
  memberId: string;
  clientId: string;
  host: string;
  /** topic → partitions assigned to the member now, sorted (empty while the group rebalances). */
  assignments: Record<string, number[]>;
}

export interface DriverGroup {
  groupId: string;
  /**
   * The broker's state, spelled as the broker names it: Empty, Stable, PreparingRebalance, CompletingRebalance
   * (classic), Assigning, Reconciling (consumer protocol), Dead (no such group).
   */
  state: string;
  /** Undefined for a group that does not exist. */
  protocol: GroupProtocol | undefined;
  members: DriverGroupMember[];
}

export interface CommittedOffsets {
  topic: string;
  /** The group's committed offset per partition; "-1" (or a missing partition) where it never committed. */
  partitions: Array<{ partition: number; offset: string }>;
}

/**
 * The Kafka admin calls the bus makes (BusAdmin, the producer's topic checks), whichever client runs. Errors are
 * {@link import("./errors").KafkaDriverError}s; a call about a topic that does not exist fails with the broker's
 * UNKNOWN_TOPIC_OR_PARTITION.
 */
export interface AdminDriver {
  /** Opens a connection and reads the cluster's metadata; fails when the cluster cannot be reached. */
  connect(): Promise<void>;
  /** Closes every connection. Safe after a failed connect. */
  disconnect(): Promise<void>;
  describeCluster(): Promise<{ clusterId: string; brokers: number }>;
  /** Every topic's name. Names no topic in its request, so no client caches a topic it might later miss. */
  listTopics(): Promise<string[]>;
  /** Creates a topic without waiting for its leaders; false when it existed already (TOPIC_ALREADY_EXISTS). */
  createTopic(topic: NewTopic): Promise<boolean>;
  /** Grows topics to `count` partitions (INVALID_PARTITIONS when one has that many already). */
  createPartitions(topics: Array<{ topic: string; count: number }>): Promise<void>;
  deleteTopics(topics: string[]): Promise<void>;
  /** Partitions and leaders of `topics`, read from the cluster now (not from a cache). */
  fetchTopicMetadata(topics: string[]): Promise<PartitionLeaders[]>;
  /** Low and high watermark of every partition of `topic`. */
  fetchTopicOffsets(topic: string): Promise<PartitionWatermarks[]>;
  /** Deletes the records of `topic` before each given offset. */
  deleteTopicRecords(topic: string, offsets: Array<{ partition: number; offset: string }>): Promise<void>;
  /** The ids of every consumer group, of either protocol. */
  listGroups(): Promise<string[]>;
  /** Each group's state and members with their assignments, of either protocol; Dead for unknown groups. */
  describeGroups(groupIds: string[]): Promise<DriverGroup[]>;
  /** The group's committed offsets on `topics` (works while the group has no members). */
  fetchOffsets(groupId: string, topics: string[]): Promise<CommittedOffsets[]>;
  /** Deletes empty groups (NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND for unknown ones). */
  deleteGroups(groupIds: string[]): Promise<void>;
}
