import type { KafkaConnection } from "../../config";
import type {
  AdminDriver,
  CommittedOffsets,
  DriverGroup,
  NewTopic,
  PartitionLeaders,
  PartitionWatermarks,
} from "../admin";
import { hasBrokerError } from "../errors";
import { platformaticBaseOptions, platformaticRetries } from "./connection";
import { platformaticCall } from "./errors";
import { firstContact } from "./first-contact";
import { describeGroupsOfBothProtocols } from "./groups";
import { platformatic, type Platformatic } from "./load";

/** ListOffsets' special timestamps: the first offset still in the log, and the next one to be written. */
const EARLIEST = -2n;
const LATEST = -1n;

/**
 * {@link AdminDriver} on the @platformatic/kafka admin client. Topic-scoped reads refresh the client's metadata
 * (`forceUpdate`): its cache would otherwise answer for up to 5 s with a topic's partitions from before a
 * `createPartitions`.
 */
export class PlatformaticAdminDriver implements AdminDriver {
  private admin: Platformatic.Admin | undefined;
  /** Topic creations in flight, by topic (see `createTopic`). */
  private readonly creating = new Map<string, Promise<boolean>>();

  constructor(private readonly connection: KafkaConnection) {}

  async connect(): Promise<void> {
    const { Admin } = platformatic();
    const admin = new Admin({ ...platformaticBaseOptions(this.connection), ...platformaticRetries });
    this.admin = admin;
    await firstContact(this.connection);
    await platformaticCall(() => admin.metadata({ topics: [], forceUpdate: true }));
  }

  async disconnect(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await platformaticCall(async () => admin?.close());
  }

  async describeCluster(): Promise<{ clusterId: string; brokers: number }> {
    const admin = this.client();
    const metadata = await platformaticCall(() => admin.metadata({ topics: [], forceUpdate: true }));
    return { clusterId: metadata.id, brokers: metadata.brokers.size };
  }

  listTopics(): Promise<string[]> {
    const admin = this.client();
    // Internal topics too, as kafkajs lists them.
    return platformaticCall(() => admin.listTopics({ includeInternals: true }));
  }

  createTopic(spec: NewTopic): Promise<boolean> {
    // The client merges identical requests in flight into one and gives each caller its answer: both callers would
    // hear "created". The second caller of this admin hears "already exists", as from the broker.
    const pending = this.creating.get(spec.topic);
    if (pending !== undefined) return pending.then(() => false);
    const creating = this.create(spec).finally(() => this.creating.delete(spec.topic));
    this.creating.set(spec.topic, creating);
    return creating;
  }

  private async create({ topic, partitions, replicationFactor, configs }: NewTopic): Promise<boolean> {
    const admin = this.client();
    try {
      await platformaticCall(() =>
        admin.createTopics({
          topics: [topic],
          partitions,
          replicas: replicationFactor,
          configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
        }),
      );
      return true;
    } catch (error) {
      if (hasBrokerError(error, "TOPIC_ALREADY_EXISTS")) return false;
      throw error;
    }
  }

  createPartitions(topics: Array<{ topic: string; count: number }>): Promise<void> {
    const admin = this.client();
    return platformaticCall(() =>
      admin.createPartitions({ topics: topics.map(({ topic, count }) => ({ name: topic, count })) }),
    );
  }

  deleteTopics(topics: string[]): Promise<void> {
    const admin = this.client();
    return platformaticCall(() => admin.deleteTopics({ topics }));
  }

  async fetchTopicMetadata(topics: string[]): Promise<PartitionLeaders[]> {
    const admin = this.client();
    // A copy: the client sorts the list it is given in place.
    const metadata = await platformaticCall(() => admin.metadata({ topics: [...topics], forceUpdate: true }));
    return topics.flatMap((topic) => {
      const found = metadata.topics.get(topic);
      if (found === undefined) return [];
      return [
        { topic, partitions: found.partitions.map(({ leader }, partition) => ({ partition, leader })) },
      ];
    });
  }

  async fetchTopicOffsets(topic: string): Promise<PartitionWatermarks[]> {
    const admin = this.client();
    return platformaticCall(async () => {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
      const ask = (timestamp: bigint): Promise<Platformatic.ListedOffsetsTopic[]> =>
        admin.listOffsets({
          topics: [
            {
              name: topic,
              partitions: Array.from({ length: count }, (_, partitionIndex) => ({
                partitionIndex,
                timestamp,
              })),
            },
          ],
        });
      const [earliest, latest] = await Promise.all([ask(EARLIEST), ask(LATEST)]);
      const offsetsOf = (listed: Platformatic.ListedOffsetsTopic[]): Map<number, string> =>
        new Map(
          listed
            .filter((entry) => entry.name === topic)
            .flatMap((entry) => entry.partitions)
            .map((p) => [p.partitionIndex, p.offset.toString()]),
        );
      const low = offsetsOf(earliest);
      const high = offsetsOf(latest);
      return Array.from({ length: count }, (_, partition) => ({
        partition,
        low: low.get(partition) ?? "0",
        high: high.get(partition) ?? "0",
      }));
    });
  }

  async deleteTopicRecords(
    topic: string,
    offsets: Array<{ partition: number; offset: string }>,
  ): Promise<void> {
    const admin = this.client();
    await platformaticCall(() =>
      admin.deleteRecords({
        topics: [
          {
            name: topic,
            partitions: offsets.map(({ partition, offset }) => ({ partition, offset: BigInt(offset) })),
          },
        ],
      }),
    );
  }

  async listGroups(): Promise<string[]> {
    const admin = this.client();
    // The client lists classic groups only unless asked for the consumer protocol's too.
    const groups = await platformaticCall(() => admin.listGroups({ types: ["classic", "consumer"] }));
    return [...groups.keys()];
  }

  describeGroups(groupIds: string[]): Promise<DriverGroup[]> {
    const admin = this.client();
    return platformaticCall(() => describeGroupsOfBothProtocols(admin, groupIds));
  }

  async fetchOffsets(groupId: string, topics: string[]): Promise<CommittedOffsets[]> {
    const admin = this.client();
    const wanted = new Set(topics);
    const groups = await platformaticCall(() => admin.listConsumerGroupOffsets({ groups: [groupId] }));
    return groups
      .filter((group) => group.groupId === groupId)
      .flatMap((group) => group.topics)
      .filter((topic) => wanted.has(topic.name))
      .map((topic) => ({
        topic: topic.name,
        partitions: topic.partitions.map((p) => ({
          partition: p.partitionIndex,
          offset: p.committedOffset.toString(),
        })),
      }));
  }

  deleteGroups(groupIds: string[]): Promise<void> {
    const admin = this.client();
    return platformaticCall(() => admin.deleteGroups({ groups: groupIds }));
  }

  private client(): Platformatic.Admin {
    if (this.admin === undefined) throw new Error("the admin client is not connected");
    return this.admin;
  }
}
