import type { KafkaConnection } from "../../config";
import type { OutgoingRecord, ProducerDriver } from "../producer";
import { platformaticBaseOptions, platformaticRetries } from "./connection";
import { platformaticCall } from "./errors";
import { firstContact } from "./first-contact";
import { platformatic, type Platformatic } from "./load";

type Producer = Platformatic.Producer<Buffer, Buffer, Buffer, Buffer>;

/**
 * {@link ProducerDriver} on @platformatic/kafka: its idempotent producer (acks=all, one request in flight per
 * broker), no topic auto-creation, and the Java client's key → partition mapping (`compatibilityPartitioner`, as
 * kafkajs' default partitioner), so a key lands on the same partition whichever driver wrote it.
 */
export class PlatformaticProducerDriver implements ProducerDriver {
  private producer: Producer | undefined;
  /**
   * Set by a failed send. The client advances a partition's sequence numbers only on success, but the broker may
   * have appended the records of a failed (timed-out, partly refused) request: a later, different record sent
   * under the same sequence numbers would be acknowledged as a duplicate and dropped. A new producer id first.
   */
  private renewProducerId = false;

  constructor(private readonly connection: KafkaConnection) {}

  async connect(): Promise<void> {
    const { Producer, compatibilityPartitioner } = platformatic();
    const producer: Producer = new Producer({
      ...platformaticBaseOptions(this.connection),
      ...platformaticRetries,
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
      partitioner: compatibilityPartitioner,
      // How long the broker may wait for the replicas' acknowledgement, as kafkajs' request timeout.
      timeout: this.connection.requestTimeoutMs,
    });
    this.producer = producer;
    await firstContact(this.connection);
    await platformaticCall(() => producer.initIdempotentProducer({}));
  }

  async disconnect(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await platformaticCall(async () => producer?.close());
  }

  async send(records: OutgoingRecord[]): Promise<void> {
    const producer = this.producer;
    if (producer === undefined) throw new Error("the producer is not connected");
    await platformaticCall(async () => {
      if (this.renewProducerId) {
        await producer.initIdempotentProducer({});
        this.renewProducerId = false;
      }
      try {
        await producer.send({ messages: records.map(messageOf) });
      } catch (error) {
        this.renewProducerId = true;
        throw error;
      }
    });
  }
}

function messageOf(record: OutgoingRecord): Platformatic.MessageToProduce<Buffer, Buffer, Buffer, Buffer> {
  const headers = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    headers.set(Buffer.from(name, "utf8"), Buffer.from(value, "utf8"));
  }
  return {
    topic: record.topic,
    key: record.key === null ? undefined : Buffer.from(record.key, "utf8"),
    // A tombstone: the client writes a null value for undefined as for null.
    value: record.value ?? undefined,
    headers,
    ...(record.partition === undefined ? {} : { partition: record.partition }),
  };
}
