import type { Admin } from "kafkajs";
import type { Logger } from "pino";
import type { KafkaConnection } from "../../config";
import { createKafka } from "../../kafka-client";
import type {
  AdminDriver,
  CommittedOffsets,
  DriverGroup,
  NewTopic,
  PartitionLeaders,
  PartitionWatermarks,
} from "../admin";
import { hasBrokerError } from "../errors";
import { decodeMemberAssignment } from "../member-assignment";
import { platformaticBaseOptions, platformaticRetries } from "../platformatic/connection";
import { platformaticCall } from "../platformatic/errors";
import { describeConsumerProtocolGroups } from "../platformatic/groups";
import { platformatic, type Platformatic } from "../platformatic/load";
import { kafkajsCall, unknownTopicIfNoMetadata } from "./errors";

/**
 * {@link AdminDriver} on the kafkajs admin client.
 *
 * kafkajs 2.2.4 speaks only the classic group protocol's requests: its DescribeGroups reports a group of the
 * KIP-848 consumer protocol (a worker on @platformatic/kafka) as Dead with no members, and it has no
 * ConsumerGroupDescribe. For those groups only — a group ListGroups shows but DescribeGroups calls Dead — this
 * driver asks through a @platformatic/kafka admin connection, opened on first need (a fleet that runs kafkajs only
 * never opens it).
 */
export class KafkajsAdminDriver implements AdminDriver {
  private readonly admin: Admin;
  private consumerProtocolAdmin: Platformatic.Admin | undefined;

  constructor(
    private readonly connection: KafkaConnection,
    logger: Logger,
  ) {
    this.admin = createKafka(connection, logger).admin();
  }

  connect(): Promise<void> {
    return kafkajsCall(() => this.admin.connect());
  }

  async disconnect(): Promise<void> {
    const other = this.consumerProtocolAdmin;
    this.consumerProtocolAdmin = undefined;
    await Promise.all([
      kafkajsCall(() => this.admin.disconnect()),
      other === undefined ? undefined : platformaticCall(() => other.close()),
    ]);
  }

  async describeCluster(): Promise<{ clusterId: string; brokers: number }> {
    const cluster = await kafkajsCall(() => this.admin.describeCluster());
    return { clusterId: cluster.clusterId, brokers: cluster.brokers.length };
  }

  listTopics(): Promise<string[]> {
    return kafkajsCall(() => this.admin.listTopics());
  }

  async createTopic({ topic, partitions, replicationFactor, configs }: NewTopic): Promise<boolean> {
    try {
      // false: the broker answered TOPIC_ALREADY_EXISTS.
      return await kafkajsCall(() =>
        this.admin.createTopics({
          waitForLeaders: false,
          topics: [
            {
              topic,
              numPartitions: partitions,
              replicationFactor,
              configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
            },
          ],
        }),
      );
    } catch (error) {
      if (hasBrokerError(error, "TOPIC_ALREADY_EXISTS")) return false;
      throw error;
    }
  }

  async createPartitions(topics: Array<{ topic: string; count: number }>): Promise<void> {
    await kafkajsCall(() => this.admin.createPartitions({ topicPartitions: topics }));
  }

  deleteTopics(topics: string[]): Promise<void> {
    return kafkajsCall(() => this.admin.deleteTopics({ topics }));
  }

  async fetchTopicMetadata(topics: string[]): Promise<PartitionLeaders[]> {
    // fetchTopicMetadata does not add to kafkajs' remembered topics (see BusAdmin), so it cannot poison it.
    const { topics: metadata } = await kafkajsCall(() =>
      this.admin.fetchTopicMetadata({ topics }).catch((error: unknown) => {
        throw unknownTopicIfNoMetadata(error);
      }),
    );
    return metadata.map(({ name, partitions }) => ({
      topic: name,
      partitions: partitions.map(({ partitionId, leader }) => ({ partition: partitionId, leader })),
    }));
  }

  async fetchTopicOffsets(topic: string): Promise<PartitionWatermarks[]> {
    const offsets = await kafkajsCall(() => this.admin.fetchTopicOffsets(topic));
    return offsets.map(({ partition, low, high }) => ({ partition, low, high }));
  }

  async deleteTopicRecords(
    topic: string,
    offsets: Array<{ partition: number; offset: string }>,
  ): Promise<void> {
    await kafkajsCall(async () => {
      // deleteTopicRecords needs the topic's leaders in the client's metadata; fetchTopicOffsets loads them.
      await this.admin.fetchTopicOffsets(topic);
      await this.admin.deleteTopicRecords({ topic, partitions: offsets });
    });
  }

  async listGroups(): Promise<string[]> {
    const { groups } = await kafkajsCall(() => this.admin.listGroups());
    return groups.map((group) => group.groupId);
  }

  async describeGroups(groupIds: string[]): Promise<DriverGroup[]> {
    if (groupIds.length === 0) return [];
    const { groups } = await kafkajsCall(() => this.admin.describeGroups(groupIds));
    const described: DriverGroup[] = groups.map((group) => ({
      groupId: group.groupId,
      state: group.state,
      protocol: group.state === "Dead" ? undefined : "classic",
      members: group.members.map((member) => ({
        memberId: member.memberId,
        clientId: member.clientId,
        host: member.clientHost,
        assignments: group.protocolType === "consumer" ? decodeMemberAssignment(member.memberAssignment) : {},
      })),
    }));
    const dead = described.filter((group) => group.protocol === undefined).map((group) => group.groupId);
    if (dead.length === 0) return described;
    const listed = new Set(await this.listGroups());
    const live = dead.filter((groupId) => listed.has(groupId));
    if (live.length === 0) return described;
    const admin = this.platformaticAdmin();
    const consumer = await platformaticCall(() => describeConsumerProtocolGroups(admin, live));
    return described.map((group) => consumer.get(group.groupId) ?? group);
  }

  async fetchOffsets(groupId: string, topics: string[]): Promise<CommittedOffsets[]> {
    const committed = await kafkajsCall(() => this.admin.fetchOffsets({ groupId, topics }));
    return committed.map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.map(({ partition, offset }) => ({ partition, offset })),
    }));
  }

  deleteGroups(groupIds: string[]): Promise<void> {
    return kafkajsCall(async () => {
      await this.admin.deleteGroups(groupIds);
    });
  }

  private platformaticAdmin(): Platformatic.Admin {
    if (this.consumerProtocolAdmin === undefined) {
      const { Admin } = platformatic();
      this.consumerProtocolAdmin = new Admin({
        ...platformaticBaseOptions(this.connection),
        ...platformaticRetries,
      });
    }
    return this.consumerProtocolAdmin;
  }
}
