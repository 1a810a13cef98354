// The producer driver contract (src/driver/producer.ts): the same cases on kafkajs and on @platformatic/kafka,
// against the real broker. What the bus relies on: a batch lands with its keys and headers, in order per key; a key
// lands on the same partition whichever driver wrote it; the broker's refusals are classified the same; and a
// failed first connection is explained with the same sentence.
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import type { Admin, Kafka } from "kafkajs";
import {
  createTopics,
  kafkaConnection,
  rawKafka,
  type ReadRecord,
  readTopic,
  testLogger as logger,
  uniqueName,
} from "@omnidaemon/testkit";
import { BusAdmin } from "../src/admin";
import {
  KAFKA_CLIENTS,
  parseKafkaConnection,
  type KafkaClientName,
  type KafkaConnection,
} from "../src/config";
import { loadKafkaEnv } from "../src/connection-env";
import { KafkaDriverError, rejectionOf } from "../src/driver/errors";
import { createProducerDriver } from "../src/driver/factories";
import type { OutgoingRecord, ProducerDriver } from "../src/driver/producer";
import { BusError } from "../src/errors";
import { createEnvelope } from "../src/envelope";
import { HEADER } from "../src/headers";
import { KafkaProducer } from "../src/producer";

let kafka: Kafka;
let admin: Admin;
const made: string[] = [];

beforeAll(async () => {
  kafka = rawKafka();
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin.deleteTopics({ topics: made }).catch(() => undefined);
  await admin.disconnect();
});

async function topic(partitions: number, configs: Record<string, string> = {}): Promise<string> {
  const name = uniqueName("pdriver");
  await createTopics(admin, [
    {
      topic: name,
      numPartitions: partitions,
      configEntries: Object.entries(configs).map(([key, value]) => ({ name: key, value })),
    },
  ]);
  made.push(name);
  return name;
}

function connectionOf(client: KafkaClientName, overrides: Partial<KafkaConnection> = {}): KafkaConnection {
  return parseKafkaConnection({ ...kafkaConnection(), client, ...overrides });
}

async function connected(client: KafkaClientName): Promise<ProducerDriver> {
  const driver = createProducerDriver(connectionOf(client), logger);
  await driver.connect();
  return driver;
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error("expected a failure, got success"),
    (error: unknown) => error,
  );
}

function byKey(records: ReadRecord[]): Map<string, ReadRecord[]> {
  const out = new Map<string, ReadRecord[]>();
  for (const record of [...records].sort((a, b) => Number(a.offset) - Number(b.offset))) {
    const list = out.get(record.key ?? "") ?? [];
    list.push(record);
    out.set(record.key ?? "", list);
  }
  return out;
}

describe.each(KAFKA_CLIENTS)("the producer driver on %s", (client) => {
  let driver: ProducerDriver;

  beforeAll(async () => {
    driver = await connected(client);
  });

  afterAll(async () => {
    await driver.disconnect();
  });

  it("writes one batch across topics and partitions: each key on one partition, in send order, with its headers", async () => {
    const orders = await topic(3);
    const audit = await topic(2);
    const keys = ["k0", "k1", "k2", "k3", "k4"];
    const batch = (round: number): OutgoingRecord[] =>
      Array.from({ length: 40 }, (_, i) => ({
        topic: i % 4 === 3 ? audit : orders,
        key: keys[i % keys.length] as string,
        value: Buffer.from(JSON.stringify({ round, i })),
        headers: { "omni-seq": `${round}:${i}`, "content-type": "application/json; charset=utf-8 ✓" },
      }));
    const sent = [...batch(0), ...batch(1)];
    await driver.send(batch(0));
    await driver.send(batch(1));

    for (const name of [orders, audit]) {
      const stored = await readTopic(name);
      const expected = sent.filter((record) => record.topic === name);
      expect(stored).toHaveLength(expected.length);
      for (const [key, records] of byKey(stored)) {
        expect(new Set(records.map((r) => r.partition)).size).toBe(1);
        const inSendOrder = expected.filter((record) => record.key === key);
        expect(records.map((r) => r.value)).toEqual(inSendOrder.map((r) => r.value?.toString()));
        expect(records.map((r) => r.headers)).toEqual(inSendOrder.map((r) => r.headers));
      }
    }
  });

  it("writes a tombstone (null value), a record without a key, and a record to the partition it names", async () => {
    const name = await topic(3);
    await driver.send([
      { topic: name, key: "gone", value: null, partition: 2 },
      { topic: name, key: null, value: Buffer.from("keyless") },
    ]);
    const stored = await readTopic(name);
    expect(stored).toHaveLength(2);
    expect(stored.find((r) => r.key === "gone")).toMatchObject({ partition: 2, value: null });
    expect(stored.find((r) => r.key === null)).toMatchObject({ value: "keyless" });
  });

  it("is refused MESSAGE_TOO_LARGE, not retriable, for a record over the topic's max.message.bytes, and sends on afterwards", async () => {
    const small = await topic(1, { "max.message.bytes": "2048" });
    const error = await failureOf(
      driver.send([
        { topic: small, key: "fits", value: Buffer.alloc(100, 120) },
        { topic: small, key: "poison", value: Buffer.alloc(10_000, 120) },
      ]),
    );
    expect(error).toBeInstanceOf(KafkaDriverError);
    expect(error).toMatchObject({ client, retriable: false });
    expect(rejectionOf(error)).toBe("MESSAGE_TOO_LARGE");
    expect((error as Error).message).toMatch(/MESSAGE_TOO_LARGE|larger than the max message size/);

    await driver.send([{ topic: small, key: "after", value: Buffer.from("fine") }]);
    const stored = await readTopic(small);
    expect(stored.map((r) => r.key)).toContain("after");
    expect(stored.map((r) => r.key)).not.toContain("poison");
  });

  it("is refused UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist", async () => {
    // A client of its own: kafkajs keeps failing for a topic it once asked about (kafkajs#1622).
    const own = await connected(client);
    try {
      const error = await failureOf(
        own.send([{ topic: uniqueName("missing"), key: "k", value: Buffer.from("x") }]),
      );
      expect(error).toBeInstanceOf(KafkaDriverError);
      expect(rejectionOf(error)).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    } finally {
      await own.disconnect();
    }
  });

  it("KafkaProducer on it: an envelope's tenant travels in the omni-tenant-id header (none without a tenant), so consumers schedule fairly without parsing the value first", async () => {
    const name = await topic(1);
    const producer = new KafkaProducer({ connection: connectionOf(client), logger });
    await producer.start();
    try {
      await producer.publish(createEnvelope({ topic: name, content: { n: 1 }, tenantId: "acme" }), {
        key: "a",
      });
      await producer.publish(createEnvelope({ topic: name, content: { n: 2 } }), { key: "b" });
      const stored = await readTopic(name);
      expect(Object.fromEntries(stored.map((r) => [r.key, r.headers[HEADER.tenantId] ?? null]))).toEqual({
        a: "acme",
        b: null,
      });
    } finally {
      await producer.stop();
    }
  });

  it("KafkaProducer on it: the record over max.message.bytes fails alone as PUBLISH_REJECTED; the rest of its batch is stored", async () => {
    const good = await topic(3);
    const small = await topic(1, { "max.message.bytes": "2048" });
    const producer = new KafkaProducer({ connection: connectionOf(client), logger });
    await producer.start();
    try {
      // Both topics known first, so that everything below is queued together and leaves in one request.
      await Promise.all([
        producer.send({ topic: good, key: "warm", value: Buffer.from("x") }),
        producer.send({ topic: small, key: "warm", value: Buffer.from("x") }),
      ]);
      const fine = Array.from({ length: 30 }, (_, i) =>
        producer.send({ topic: i % 3 === 0 ? small : good, key: `fine-${i}`, value: Buffer.alloc(100, 120) }),
      );
      const poison = failureOf(
        producer.send({ topic: small, key: "poison", value: Buffer.alloc(10_000, 120) }),
      );
      await expect(Promise.all(fine)).resolves.toHaveLength(30);
      const error = await poison;
      expect(error).toBeInstanceOf(BusError);
      expect(error).toMatchObject({ code: "PUBLISH_REJECTED", retriable: false, field: "topic" });
      expect((error as Error).message).toContain("(MESSAGE_TOO_LARGE)");
      const stored = new Set([
        ...(await readTopic(good)).map((r) => r.key),
        ...(await readTopic(small)).map((r) => r.key),
      ]);
      expect(Array.from({ length: 30 }, (_, i) => `fine-${i}`).filter((key) => !stored.has(key))).toEqual([]);
      expect(stored.has("poison")).toBe(false);
    } finally {
      await producer.stop();
    }
  });
});

it("a key lands on the same partition whichever driver wrote it (the Java client's murmur2 mapping)", async () => {
  const name = await topic(12);
  const keys = Array.from({ length: 60 }, (_, i) => `task-${i}-${uniqueName("k")}`);
  for (const client of KAFKA_CLIENTS) {
    const driver = await connected(client);
    try {
      await driver.send(keys.map((key) => ({ topic: name, key, value: Buffer.from(client) })));
    } finally {
      await driver.disconnect();
    }
  }
  const stored = await readTopic(name);
  expect(stored).toHaveLength(keys.length * KAFKA_CLIENTS.length);
  const partitionOf = (client: KafkaClientName): Map<string | null, number> =>
    new Map(stored.filter((r) => r.value === client).map((r) => [r.key, r.partition]));
  expect(partitionOf("platformatic")).toEqual(partitionOf("kafkajs"));
  // The keys spread: a mapping that sent everything to one partition would also be "equal".
  expect(new Set(partitionOf("kafkajs").values()).size).toBeGreaterThan(6);
});

// --- a failed first connection -------------------------------------------------------------------------------------

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The secure listener's settings, as `npm run stack -- up --secure` wrote them (CI always has them). */
function secureEnv(): Record<string, string> | undefined {
  const file = join(__dirname, "..", "..", "..", ".stack", "env.secure");
  if (!existsSync(file)) return undefined;
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = /^export (OMNIDAEMON_KAFKA_[A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1] as string] = (match[2] as string).replace(/^'(.*)'$/, "$1");
  }
  return env;
}

/** What the producer's and the admin's start() say, and what the bare driver's connect() classifies. */
async function startFailures(conn: KafkaConnection): Promise<{ producer: unknown; admin: unknown }> {
  const producer = new KafkaProducer({ connection: conn, logger });
  const busAdmin = new BusAdmin({ connection: conn, logger });
  try {
    // At once: each gives up only after its client's whole retry budget (about 10 s on kafkajs).
    const [producerFailure, adminFailure] = await Promise.all([
      failureOf(producer.start()),
      failureOf(busAdmin.start()),
    ]);
    return { producer: producerFailure, admin: adminFailure };
  } finally {
    await producer.stop();
    await busAdmin.stop();
  }
}

describe.each(KAFKA_CLIENTS)("a failed first connection on %s", (client) => {
  const quick = { connectionTimeoutMs: 2000, requestTimeoutMs: 3000 };

  it("to a port nobody listens on: names OMNIDAEMON_KAFKA_BROKERS", async () => {
    const port = await closedPort();
    const failures = await startFailures(connectionOf(client, { brokers: [`127.0.0.1:${port}`], ...quick }));
    const sentence = `nothing accepts connections at 127.0.0.1:${port}: check OMNIDAEMON_KAFKA_BROKERS.`;
    expect(failures.producer).toMatchObject({ code: "CONNECT_FAILED", message: sentence });
    expect(failures.admin).toMatchObject({ code: "ADMIN_FAILED", message: sentence });
  }, 90_000);

  it("with TLS to the plaintext listener: says the port does not speak TLS", async () => {
    const failures = await startFailures(connectionOf(client, { ssl: true, ...quick }));
    const brokers = kafkaConnection().brokers.join(",");
    const sentence =
      `Kafka at ${brokers} does not speak TLS on this port: set OMNIDAEMON_KAFKA_SSL=false, or point ` +
      `OMNIDAEMON_KAFKA_BROKERS at the TLS listener.`;
    expect(failures.producer).toMatchObject({ code: "CONNECT_FAILED", message: sentence });
    expect(failures.admin).toMatchObject({ code: "ADMIN_FAILED", message: sentence });
  }, 90_000);

  const secure = secureEnv();
  const onSecure = secure === undefined ? it.skip : it;
  if (secure === undefined) {
    logger.warn({}, "no .stack/env.secure: `npm run stack -- up --secure` to run the SASL_SSL cases");
  }

  onSecure(
    "with a wrong SASL password on the SASL_SSL listener: names the password variables",
    async () => {
      const env: Record<string, string | undefined> = {
        ...secure,
        OMNIDAEMON_KAFKA_CLIENT: client,
        OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE: undefined,
        OMNIDAEMON_KAFKA_SASL_PASSWORD: "not-the-password",
      };
      const conn = { ...loadKafkaEnv(env, { defaultClientId: "driver-test" }).connection, ...quick };
      const failures = await startFailures(parseKafkaConnection(conn));
      const sentence = new RegExp(
        `^Kafka at ${conn.brokers.join(",")} refused the SASL scram-sha-512 login of user "${conn.sasl?.username}": ` +
          "check OMNIDAEMON_KAFKA_SASL_PASSWORD",
      );
      expect(failures.producer).toMatchObject({
        code: "CONNECT_FAILED",
        message: expect.stringMatching(sentence),
      });
      expect(failures.admin).toMatchObject({
        code: "ADMIN_FAILED",
        message: expect.stringMatching(sentence),
      });
    },
    90_000,
  );

  onSecure(
    "plaintext to the SASL_SSL listener: says a TLS listener closed the connection",
    async () => {
      const brokers = (secure as Record<string, string>).OMNIDAEMON_KAFKA_BROKERS as string;
      const failures = await startFailures(connectionOf(client, { brokers: brokers.split(","), ...quick }));
      const sentence = new RegExp(
        `^Kafka at ${brokers} closed the connection before answering, as a TLS listener does with a plaintext ` +
          "client: set OMNIDAEMON_KAFKA_SSL=true",
      );
      expect(failures.producer).toMatchObject({
        code: "CONNECT_FAILED",
        message: expect.stringMatching(sentence),
      });
      expect(failures.admin).toMatchObject({
        code: "ADMIN_FAILED",
        message: expect.stringMatching(sentence),
      });
    },
    90_000,
  );
});
