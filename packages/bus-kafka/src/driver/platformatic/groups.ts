import { KafkaDriverError } from "../errors";
import type { DriverGroup } from "../admin";
import { groupState } from "../group-state";
import { decodeMemberAssignment } from "../member-assignment";
import { sleep } from "../../util/deadline";
import { platformaticCall } from "./errors";
import { platformatic, type Platformatic } from "./load";

/**
 * Describing consumer groups of both protocols through a @platformatic/kafka admin's connections.
 *
 * The classic DescribeGroups request reports a KIP-848 (`group.protocol=consumer`) group as Dead with no members;
 * only ConsumerGroupDescribe (API 69) shows it. @platformatic/kafka 1.35 ships a parser for that API that fails
 * ("Out of bounds") on any group with members — it reads the subscribed topic names as one string and skips the
 * tagged fields of the assignment structs — so this file sends the request with its own parser, over the admin's
 * own (authenticated) connection to each group's coordinator. Classic groups go through DescribeGroups, whose member
 * assignments are decoded here too (the admin's own describeGroups decodes every member's bytes as the consumer
 * protocol, and fails for a group of another protocol).
 */

const GROUP_ID_NOT_FOUND = 69;

interface DescribedMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  assignment: Array<{ topic: string; partitions: number[] }>;
}

interface DescribedGroup {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  members: DescribedMember[];
}

function readAssignment(reader: Platformatic.Reader): Array<{ topic: string; partitions: number[] }> {
  const topics = reader.readArray((r) => {
    r.readUUID();
    const topic = r.readString();
    return { topic, partitions: r.readArray((p) => p.readInt32(), true, false) };
  });
  // The Assignment struct's own tagged fields.
  reader.readTaggedFields();
  return topics;
}

/** ConsumerGroupDescribe v0's response (Kafka's ConsumerGroupDescribeResponse.json), as far as the bus reads it. */
function parseConsumerGroupDescribe(
  _correlationId: number,
  _apiKey: number,
  _apiVersion: number,
  reader: Platformatic.Reader,
): { groups: DescribedGroup[] } {
  reader.readInt32(); // throttle time
  const groups = reader.readArray((r) => {
    const errorCode = r.readInt16();
    const errorMessage = r.readNullableString();
    const groupId = r.readString();
    const state = r.readString();
    r.readInt32(); // group epoch
    r.readInt32(); // assignment epoch
    r.readString(); // assignor name
    const members = r.readArray((m) => {
      const memberId = m.readString();
      m.readNullableString(); // instance id
      m.readNullableString(); // rack id
      m.readInt32(); // member epoch
      const clientId = m.readString();
      const clientHost = m.readString();
      m.readArray((t) => t.readString(), true, false); // subscribed topic names
      m.readNullableString(); // subscribed topic regex
      const assignment = readAssignment(m);
      readAssignment(m); // target assignment
      return { memberId, clientId, clientHost, assignment };
    });
    r.readInt32(); // authorized operations
    return { errorCode, errorMessage, groupId, groupState: state, members };
  });
  return { groups };
}

type ConsumerGroupDescribeApi = Platformatic.API<
  [groupIds: string[], includeAuthorizedOperations: boolean],
  { groups: DescribedGroup[] }
>;
let consumerGroupDescribeApi: ConsumerGroupDescribeApi | undefined;

function consumerGroupDescribe(): ConsumerGroupDescribeApi {
  const { createAPI, Writer } = platformatic();
  consumerGroupDescribeApi ??= createAPI<[string[], boolean], { groups: DescribedGroup[] }>(
    69,
    0,
    (groupIds: string[], includeAuthorizedOperations: boolean) =>
      Writer.create()
        .appendArray(groupIds, (w, id) => w.appendString(id), true, false)
        .appendBoolean(includeAuthorizedOperations)
        .appendTaggedFields(),
    parseConsumerGroupDescribe,
  );
  return consumerGroupDescribeApi;
}

/** The groups by their coordinator's connection. */
async function byCoordinator(
  admin: Platformatic.Admin,
  groupIds: string[],
): Promise<Array<{ connection: Platformatic.Connection; groupIds: string[] }>> {
  const { FindCoordinatorKeyTypes } = platformatic();
  const coordinators = await admin.findCoordinator({
    keyType: FindCoordinatorKeyTypes.GROUP,
    keys: groupIds,
  });
  const byBroker = new Map<string, { host: string; port: number; groupIds: string[] }>();
  for (const { key, host, port } of coordinators) {
    const at = `${host}:${port}`;
    const entry = byBroker.get(at) ?? { host, port, groupIds: [] };
    entry.groupIds.push(key);
    byBroker.set(at, entry);
  }
  return Promise.all(
    [...byBroker.values()].map(async ({ host, port, groupIds: ids }) => ({
      connection: await admin.connections.get({ host, port }),
      groupIds: ids,
    })),
  );
}

/** Classic groups (DescribeGroups); a group of the consumer protocol, or none, comes back Dead. */
async function describeClassic(admin: Platformatic.Admin, groupIds: string[]): Promise<DriverGroup[]> {
  const { describeGroupsV5 } = platformatic();
  const described: DriverGroup[] = [];
  for (const { connection, groupIds: ids } of await byCoordinator(admin, groupIds)) {
    const { groups } = await describeGroupsV5.api.async(connection, ids, false);
    for (const group of groups) {
      const dead = groupState(group.groupState) === "Dead";
      described.push({
        groupId: group.groupId,
        state: groupState(group.groupState),
        protocol: dead ? undefined : "classic",
        members: group.members.map((member) => ({
          memberId: member.memberId,
          clientId: member.clientId,
          host: member.clientHost,
          assignments:
            group.protocolType === "consumer" ? decodeMemberAssignment(member.memberAssignment) : {},
        })),
      });
    }
  }
  return described;
}

/** Consumer-protocol groups (ConsumerGroupDescribe); the map leaves out a group that is not one. */
export async function describeConsumerProtocolGroups(
  admin: Platformatic.Admin,
  groupIds: string[],
): Promise<Map<string, DriverGroup>> {
  const { ProtocolError } = platformatic();
  const described = new Map<string, DriverGroup>();
  for (const { connection, groupIds: ids } of await byCoordinator(admin, groupIds)) {
    const { groups } = await consumerGroupDescribe().async(connection, ids, false);
    for (const group of groups) {
      if (group.errorCode === GROUP_ID_NOT_FOUND) continue;
      if (group.errorCode !== 0) throw new ProtocolError(group.errorCode, group.errorMessage);
      described.set(group.groupId, {
        groupId: group.groupId,
        state: groupState(group.groupState),
        protocol: "consumer",
        members: group.members.map((member) => {
          const assignments: Record<string, number[]> = {};
          for (const { topic, partitions } of member.assignment) {
            assignments[topic] = [...partitions].sort((a, b) => a - b);
          }
          return {
            memberId: member.memberId,
            clientId: member.clientId,
            host: member.clientHost,
            assignments,
          };
        }),
      });
    }
  }
  return described;
}

/**
 * Each group's state and members, whatever its protocol: DescribeGroups first, then ConsumerGroupDescribe for the
 * groups it reports Dead. `mayBeConsumerProtocol` narrows that second request (a caller that knows the live groups
 * passes them); by default every Dead group is asked about. Retried a few times when the broker says it is busy
 * (a coordinator loading or moving).
 */
export async function describeGroupsOfBothProtocols(
  admin: Platformatic.Admin,
  groupIds: string[],
  mayBeConsumerProtocol: (groupId: string) => boolean = () => true,
): Promise<DriverGroup[]> {
  if (groupIds.length === 0) return [];
  return retryingBusy(async () => {
    const classic = await describeClassic(admin, groupIds);
    const dead = classic.filter(
      (group) => group.protocol === undefined && mayBeConsumerProtocol(group.groupId),
    );
    if (dead.length === 0) return classic;
    const consumer = await describeConsumerProtocolGroups(
      admin,
      dead.map((group) => group.groupId),
    );
    return classic.map((group) => consumer.get(group.groupId) ?? group);
  });
}

async function retryingBusy<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await platformaticCall(call);
    } catch (error) {
      if (!(error instanceof KafkaDriverError) || !error.retriable || attempt >= 5) throw error;
      await sleep(100 * 2 ** (attempt - 1));
    }
  }
}
