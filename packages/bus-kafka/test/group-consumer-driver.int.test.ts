// The group-consumer driver contract (src/driver/consumer.ts): the same cases against every Kafka client, so the
// engine above it behaves alike whichever one runs. Topics and groups are made per test and removed afterwards.
import type { Admin, Kafka, Producer } from "kafkajs";
import { KAFKA_CLIENTS, type KafkaClientName } from "../src/config";
import { type GroupBatch, type GroupConsumer, type GroupConsumerOptions } from "../src/driver/consumer";
import { createGroupConsumer } from "../src/driver/factories";
import {
  kafkaBrokers,
  onLocalStack,
  rawKafka,
  restartLocalBroker,
  testLogger as logger,
  uniqueName,
  waitFor,
} from "@omnidaemon/testkit";

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const cleanups: Array<() => Promise<unknown>> = [];
// Deleted at the end: kafkajs keeps refreshing the metadata of every topic it touched, and fails once one is gone.
const topics: string[] = [];
const groups: string[] = [];

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

afterAll(async () => {
  await admin.deleteGroups(groups).catch(() => undefined);
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await producer.disconnect();
  await admin.disconnect();
});

async function topicWith(partitions: number): Promise<string> {
  const topic = uniqueName("driver");
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  topics.push(topic);
  return topic;
}

function groupName(): string {
  const groupId = uniqueName("driver_group");
  groups.push(groupId);
  return groupId;
}

/** `count` records on each of `partitions`, values `p<partition>-<tag><i>`. */
async function produce(topic: string, partitions: number[], count: number, tag = ""): Promise<void> {
  await producer.send({
    topic,
    messages: partitions.flatMap((partition) =>
      Array.from({ length: count }, (_, i) => ({
        partition,
        key: `k${i}`,
        value: `p${partition}-${tag}${i}`,
        headers: { "test-header": `h${i}`, other: Buffer.from("x") },
      })),
    ),
  });
}

interface Received {
  partition: number;
  offset: string;
  value: string;
}

/** A member under test: what it received, its assignments, its fetch count; stopped after the test. */
class Member {
  readonly received: Received[] = [];
  readonly assignments: Array<Record<string, number[]>> = [];
  revokings = 0;
  fetches = 0;
  /** The number of assignments reported when the last crash was: the next one is the member back in its group. */
  assignmentsAtCrash: number | undefined;
  readonly consumer: GroupConsumer;

  constructor(
    client: KafkaClientName,
    options: Partial<GroupConsumerOptions> & Pick<GroupConsumerOptions, "groupId" | "topics">,
    take?: (batch: GroupBatch, member: Member) => number | Promise<number>,
  ) {
    this.consumer = createGroupConsumer(
      { client, brokers: kafkaBrokers(), clientId: "driver-contract" },
      logger,
      {
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 500,
        ...options,
        onAssignment: (assignment) => void this.assignments.push(assignment),
        onRevoking: () => void this.revokings++,
        onFetch: () => void this.fetches++,
        onCrash: () => void (this.assignmentsAtCrash = this.assignments.length),
        onBatch: (batch) => {
          const taken = take ? take(batch, this) : batch.messages.length;
          const record = (n: number): void => {
            for (const message of batch.messages.slice(0, n)) {
              this.received.push({
                partition: batch.partition,
                offset: message.offset,
                value: message.value?.toString() ?? "",
              });
            }
          };
          if (typeof taken === "number") {
            record(taken);
            return taken;
          }
          return taken.then((n) => (record(n), n));
        },
      },
    );
    cleanups.push(() => this.consumer.stop());
  }

  get assignment(): Record<string, number[]> {
    return this.assignments.at(-1) ?? {};
  }

  partitionsOf(topic: string): number[] {
    return this.assignment[topic] ?? [];
  }

  on(partition: number): Received[] {
    return this.received.filter((r) => r.partition === partition);
  }

  /** Waits for `n` more fetch responses: proof the fetch loop went round (and did not bring what is held back). */
  async fetchesMore(n: number): Promise<void> {
    const target = this.fetches + n;
    await waitFor(`${n} more fetches`, () => this.fetches >= target);
  }
}

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);
const offsets = (records: Received[]): number[] => records.map((r) => Number(r.offset));
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe.each(KAFKA_CLIENTS)("the group consumer on %s", (client) => {
  it("reads a new group's partitions from the beginning with fromBeginning, and only what comes next without", async () => {
    const topic = await topicWith(3);
    await produce(topic, [0, 1, 2], 5, "old");

    const early = new Member(client, { groupId: groupName(), topics: [{ topic, fromBeginning: true }] });
    const late = new Member(client, { groupId: groupName(), topics: [{ topic, fromBeginning: false }] });
    await Promise.all([early.consumer.start(), late.consumer.start()]);
    await waitFor("the early member's 15 old records", () => early.received.length === 15);
    await waitFor("the late member's assignment", () => late.partitionsOf(topic).length === 3);
    await late.fetchesMore(3);
    expect(late.received).toEqual([]);

    await produce(topic, [0, 1, 2], 2, "new");
    await waitFor("the late member's 6 new records", () => late.received.length === 6);
    expect(sorted(late.received.map((r) => r.partition))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(late.received.every((r) => r.value.includes("-new"))).toBe(true);
    await waitFor("the early member's 21 records", () => early.received.length === 21);
    for (const partition of [0, 1, 2]) expect(offsets(early.on(partition))).toEqual(range(0, 7));
  });

  it("hands over messages in one shape: string offsets and timestamps, Buffer keys and values, decoded headers", async () => {
    const topic = await topicWith(1);
    await produce(topic, [0], 1);
    const batches: GroupBatch[] = [];
    const member = new Member(
      client,
      { groupId: groupName(), topics: [{ topic, fromBeginning: true }] },
      (batch) => {
        batches.push(batch);
        return batch.messages.length;
      },
    );
    await member.consumer.start();
    await waitFor("the record", () => member.received.length === 1);
    const batch = batches.find((b) => b.messages.length > 0) as GroupBatch;
    const [message] = batch.messages;
    expect(batch).toMatchObject({ topic, partition: 0, highWatermark: "1", lastOffset: "0" });
    expect(message?.offset).toBe("0");
    expect(message?.key).toEqual(Buffer.from("k0"));
    expect(message?.value).toEqual(Buffer.from("p0-0"));
    expect(Math.abs(Number(message?.timestamp) - Date.now())).toBeLessThan(10 * 60_000);
    expect(message?.headers()).toEqual({ "test-header": "h0", other: "x" });
    await expect(batch.heartbeat()).resolves.toBeUndefined();
  });

  it("pausing a partition holds back exactly its records; resuming delivers them all, once, in order", async () => {
    const topic = await topicWith(3);
    const member = new Member(client, { groupId: groupName(), topics: [{ topic, fromBeginning: true }] });
    await member.consumer.start();
    await waitFor("the assignment", () => member.partitionsOf(topic).length === 3);
    await member.fetchesMore(1);

    member.consumer.pause(topic, [1]);
    await produce(topic, [0, 1, 2], 10);
    await waitFor("partitions 0 and 2", () => member.on(0).length === 10 && member.on(2).length === 10);
    await member.fetchesMore(3);
    expect(member.on(1)).toEqual([]);

    member.consumer.resume(topic, [1]);
    await waitFor("partition 1", () => member.on(1).length === 10);
    expect(offsets(member.on(1))).toEqual(range(0, 10));

    // A whole-topic pause holds back everything; a whole-topic resume also clears a partition pause.
    member.consumer.pause(topic, [2]);
    member.consumer.pause(topic);
    await produce(topic, [0, 1, 2], 3, "more");
    await member.fetchesMore(3);
    expect(member.received).toHaveLength(30);
    member.consumer.resume(topic);
    await waitFor("the 9 more", () => member.received.length === 39);
    for (const partition of [0, 1, 2]) expect(offsets(member.on(partition))).toEqual(range(0, 13));
  });

  it("a batch taken only in part is fetched again from the first record not taken", async () => {
    const topic = await topicWith(1);
    await produce(topic, [0], 10);
    let parked = false;
    const member = new Member(
      client,
      { groupId: groupName(), topics: [{ topic, fromBeginning: true }] },
      (batch, self) => {
        if (parked || batch.messages.length === 0) return batch.messages.length;
        // As the engine parks a retry partition whose head is not due: take a prefix, pause the partition.
        parked = true;
        self.consumer.pause(topic, [0]);
        return Math.min(4, batch.messages.length);
      },
    );
    await member.consumer.start();
    await waitFor("the first part", () => member.received.length > 0);
    await member.fetchesMore(3);
    const part = member.received.length;
    expect(part).toBeLessThanOrEqual(4);
    member.consumer.resume(topic, [0]);
    await waitFor("the rest", () => member.received.length === 10);
    expect(offsets(member.received)).toEqual(range(0, 10));
  });

  it("a new member of the group starts right after the committed offset", async () => {
    const topic = await topicWith(1);
    const groupId = groupName();
    await produce(topic, [0], 10);
    const first = new Member(client, { groupId, topics: [{ topic, fromBeginning: true }] });
    await first.consumer.start();
    await waitFor("all 10", () => first.received.length === 10);
    await first.consumer.commit([{ topic, partition: 0, offset: "6" }]);
    await first.consumer.stop();

    const second = new Member(client, { groupId, topics: [{ topic, fromBeginning: true }] });
    await second.consumer.start();
    await waitFor("the uncommitted 4", () => second.received.length === 4);
    expect(offsets(second.received)).toEqual([6, 7, 8, 9]);
  });

  it("a second member takes a share of the partitions, and hands them back when it leaves", async () => {
    const topic = await topicWith(6);
    const groupId = groupName();
    const topics = [{ topic, fromBeginning: true }];
    const a = new Member(client, { groupId, topics });
    await a.consumer.start();
    await waitFor("A holding all six", () => a.partitionsOf(topic).length === 6);

    const b = new Member(client, { groupId, topics });
    await b.consumer.start();
    await waitFor(
      "the six split between A and B",
      () =>
        a.partitionsOf(topic).length > 0 &&
        b.partitionsOf(topic).length > 0 &&
        sorted([...a.partitionsOf(topic), ...b.partitionsOf(topic)]).join() === "0,1,2,3,4,5",
    );
    expect(a.revokings).toBeGreaterThan(0);
    await produce(topic, range(0, 6), 2);
    await waitFor("every record by A or B", () => a.received.length + b.received.length === 12);
    for (const partition of range(0, 6)) {
      const owner = a.partitionsOf(topic).includes(partition) ? a : b;
      expect(offsets(owner.on(partition))).toEqual([0, 1]);
    }

    await b.consumer.stop();
    await waitFor("A holding all six again", () => a.partitionsOf(topic).length === 6);
  });

  it("a member silent past its session timeout (a frozen event loop) rejoins and consumes again", async () => {
    const topic = await topicWith(2);
    await produce(topic, [0], 1, "before");
    const member = new Member(client, {
      groupId: groupName(),
      topics: [{ topic, fromBeginning: true }],
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 300,
    });
    await member.consumer.start();
    await waitFor("the first record", () => member.received.length === 1);
    const assignmentsBefore = member.assignments.length;

    // Synchronous work longer than the session: no heartbeat goes out, and the broker drops the member.
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      // frozen
    }
    await waitFor(
      "the assignment again",
      () => member.assignments.length > assignmentsBefore && member.partitionsOf(topic).length === 2,
    );
    await produce(topic, [0, 1], 1, "after");
    await waitFor(
      "the records produced after",
      () => member.received.filter((r) => r.value.includes("-after")).length === 2,
    );
    // What was never committed may come again (at least once); nothing is skipped.
    expect(member.received.filter((r) => r.value.includes("-before")).length).toBeGreaterThanOrEqual(1);
  });

  it("assigns sticky and balanced per topic: a joining member takes only the surplus, a leaving one hands over only its own", async () => {
    const [main, retry] = [await topicWith(6), await topicWith(6)];
    const groupId = groupName();
    const topics = [main, retry].map((topic) => ({ topic, fromBeginning: true }));
    const members: Member[] = [];
    const owned = (): Array<Record<string, number[]>> => members.map((m) => m.assignment);
    const settled = (counts: number[]): boolean =>
      [main, retry].every((topic) => {
        const held = members.map((m) => m.partitionsOf(topic));
        return (
          held.map((p) => p.length).join() === counts.join() &&
          sorted(held.flat()).join() === range(0, 6).join()
        );
      });
    const kept = (before: Array<Record<string, number[]>>): void => {
      for (const [i, previous] of before.entries()) {
        for (const topic of [main, retry]) {
          const now = members[i]?.partitionsOf(topic) ?? [];
          const [fewer, more] =
            now.length <= (previous[topic] ?? []).length
              ? [now, previous[topic] ?? []]
              : [previous[topic] ?? [], now];
          expect(fewer.every((p) => more.includes(p))).toBe(true);
        }
      }
    };

    for (const [n, counts] of [
      [1, [6]],
      [2, [3, 3]],
      [3, [2, 2, 2]],
    ] as const) {
      const before = owned();
      const member = new Member(client, { groupId, topics });
      members.push(member);
      await member.consumer.start();
      await waitFor(`${n} members holding ${counts.join("/")} of each topic`, () => settled([...counts]));
      kept(before);
    }
    const before = owned().slice(0, 2);
    const leaver = members.pop() as Member;
    await leaver.consumer.stop();
    await waitFor("the two holding 3/3 of each topic", () => settled([3, 3]));
    kept(before);
  });

  it("stop() is bounded while a batch is still being handled, idempotent, and safe before start()", async () => {
    const topic = await topicWith(1);
    await produce(topic, [0], 1);
    let handling = false;
    let release: (taken: number) => void = () => undefined;
    const member = new Member(
      client,
      { groupId: groupName(), topics: [{ topic, fromBeginning: true }], stopTimeoutMs: 2000 },
      () => {
        handling = true;
        return new Promise<number>((resolve) => (release = resolve));
      },
    );
    await member.consumer.start();
    await waitFor("the batch being handled", () => handling);
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      member.consumer.stop().then(() => "stopped"),
      new Promise((resolve) => (timer = setTimeout(resolve, 25_000, "still stopping"))),
    ]);
    clearTimeout(timer);
    expect(stopped).toBe("stopped");
    await expect(member.consumer.stop()).resolves.toBeUndefined();
    // The callback settles long after: whatever the driver still held is let go (no handle outlives the test).
    release(1);

    const unstarted = new Member(client, { groupId: groupName(), topics: [{ topic, fromBeginning: true }] });
    await expect(unstarted.consumer.stop()).resolves.toBeUndefined();
  });
});

describe("the group consumer on platformatic", () => {
  it("goes on fetching the partitions a member keeps while another joins, and does not read them again", async () => {
    const topic = await topicWith(6);
    const groupId = groupName();
    const topics = [{ topic, fromBeginning: true }];
    await produce(topic, range(0, 6), 5);
    // No commits: a partition that moves is read again from the beginning by its new owner.
    const a = new Member("platformatic", { groupId, topics });
    await a.consumer.start();
    await waitFor("A's 30 records", () => a.received.length === 30);

    const b = new Member("platformatic", { groupId, topics });
    await b.consumer.start();
    await waitFor(
      "B's share",
      () => b.partitionsOf(topic).length === 3 && a.partitionsOf(topic).length === 3,
    );
    await waitFor("B reading its share from the beginning", () => b.received.length === 15);
    await produce(topic, range(0, 6), 1, "after");
    await waitFor("the 6 new records", () => a.received.length + b.received.length === 30 + 15 + 6);

    // kafkajs would fetch A's kept partitions again from the commit (here: the beginning), for the engine to skip.
    for (const partition of a.partitionsOf(topic)) expect(offsets(a.on(partition))).toEqual(range(0, 6));
  });
});

describe("members of both drivers in one group", () => {
  it("share the partitions through the same sticky assignor, so a fleet can switch clients one worker at a time", async () => {
    const topic = await topicWith(6);
    const groupId = groupName();
    const topics = [{ topic, fromBeginning: true }];
    const a = new Member("kafkajs", { groupId, topics });
    await a.consumer.start();
    await waitFor("the kafkajs member holding all six", () => a.partitionsOf(topic).length === 6);
    const b = new Member("platformatic", { groupId, topics });
    await b.consumer.start();
    await waitFor(
      "three each",
      () =>
        a.partitionsOf(topic).length === 3 &&
        b.partitionsOf(topic).length === 3 &&
        sorted([...a.partitionsOf(topic), ...b.partitionsOf(topic)]).join() === range(0, 6).join(),
    );
    await produce(topic, range(0, 6), 2);
    await waitFor("every record by one of them", () => a.received.length + b.received.length === 12);
    for (const partition of range(0, 6)) {
      const owner = a.partitionsOf(topic).includes(partition) ? a : b;
      expect(offsets(owner.on(partition))).toEqual([0, 1]);
    }
    await a.consumer.stop();
    await waitFor("the platformatic member holding all six", () => b.partitionsOf(topic).length === 6);
  });
});

// Restarting the broker needs the local stack's process (scripts/stack.sh). Last in the file: the other cases need
// not wait for the broker to settle.
const onTheLocalStack = onLocalStack() ? it : it.skip;

describe.each(KAFKA_CLIENTS)("the group consumer on %s across a broker restart", (client) => {
  onTheLocalStack(
    "stays a member of its group: its assignment is reported again after the crash, a partition paused before the restart is fetched once resumed, and a member joining later shares the partitions with it",
    async () => {
      const topic = await topicWith(4);
      const groupId = groupName();
      const topics = [{ topic, fromBeginning: true }];
      await produce(topic, range(0, 4), 2, "before");
      const a = new Member(client, { groupId, topics });
      await a.consumer.start();
      await waitFor("A's 8 records", () => a.received.length === 8);
      await a.consumer.commit(range(0, 4).map((partition) => ({ topic, partition, offset: "2" })));
      // As back-pressure holds a partition back while the broker goes away.
      a.consumer.pause(topic, [1]);

      // Down for longer than the session timeout (6 s): the broker forgets a member that does not come back.
      await restartLocalBroker(3000);
      // The platformatic driver always reports a crash (its heartbeat fails at once); kafkajs may ride out a short
      // outage on its retries. After a crash, the member must be back in its group and say so.
      await waitFor(
        "A's assignment reported again after its crash",
        () => a.assignmentsAtCrash === undefined || a.assignments.length > a.assignmentsAtCrash,
        90_000,
      );
      // Resumed as the engine re-applies its pause state: kafkajs refuses it while it restarts a crashed consumer,
      // and the engine applies it again at the next assignment.
      await waitFor("the resume of partition 1 to be accepted", () => {
        try {
          a.consumer.resume(topic, [1]);
          return true;
        } catch {
          return false;
        }
      });
      await produce(topic, range(0, 4), 2, "after");
      await waitFor(
        "the 8 records produced after the restart, the paused partition's included",
        () => a.received.filter((r) => r.value.includes("-after")).length >= 8,
        60_000,
      );
      expect(
        sorted([...new Set(a.received.filter((r) => r.value.includes("-after")).map((r) => r.partition))]),
      ).toEqual(range(0, 4));

      // A is in the group for real: a member joining now gets half, and A gives that half up.
      const b = new Member(client, { groupId, topics });
      await b.consumer.start();
      await waitFor(
        "two partitions each, none held by both",
        () =>
          a.partitionsOf(topic).length === 2 &&
          b.partitionsOf(topic).length === 2 &&
          sorted([...a.partitionsOf(topic), ...b.partitionsOf(topic)]).join() === range(0, 4).join(),
        60_000,
      );
      await expect(
        a.consumer.commit(a.partitionsOf(topic).map((partition) => ({ topic, partition, offset: "4" }))),
      ).resolves.toBeUndefined();
    },
    240_000,
  );
});
