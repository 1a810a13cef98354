import { AssignerProtocol, PartitionAssigners, type Cluster, type PartitionAssigner } from "kafkajs";
import { stickyAssign, type Ownership } from "../../engine/sticky-assignment";
import { STICKY_ASSIGNER_NAME, decodeOwnership, encodeOwnership } from "../sticky-protocol";

/**
 * The kafkajs face of {@link stickyAssign}: each member sends what it owns in its join metadata (userData), and
 * the group leader keeps those assignments. `owned()` is read at every join.
 */
export function stickyAssigner(owned: () => Ownership): PartitionAssigner {
  return ({ cluster }: { cluster: Cluster }) => ({
    name: STICKY_ASSIGNER_NAME,
    version: 1,
    async assign({ members, topics }) {
      const partitionsByTopic: Record<string, number[]> = {};
      for (const topic of topics) {
        partitionsByTopic[topic] = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId);
      }
      const previous = members.map(({ memberId, memberMetadata }) => {
        let owned: Ownership = {};
        try {
          owned = decodeOwnership(AssignerProtocol.MemberMetadata.decode(memberMetadata)?.userData);
        } catch {
          // A member whose metadata we cannot read simply starts with nothing.
        }
        return { memberId, owned };
      });
      const assignment = stickyAssign(partitionsByTopic, previous);
      return Object.entries(assignment).map(([memberId, memberAssignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: memberAssignment,
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: STICKY_ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: encodeOwnership(owned()),
        }),
      };
    },
  });
}

/** Sticky first; round robin as the fallback every kafkajs member speaks (a rolling upgrade from older workers). */
export function assignersFor(owned: () => Ownership): PartitionAssigner[] {
  return [stickyAssigner(owned), PartitionAssigners.roundRobin];
}
