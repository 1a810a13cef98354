import type { Message, Producer } from "kafkajs";
import type { Logger } from "pino";
import type { KafkaConnection } from "../../config";
import { createKafka } from "../../kafka-client";
import type { OutgoingRecord, ProducerDriver } from "../producer";
import { kafkajsCall } from "./errors";

/** {@link ProducerDriver} on kafkajs: its idempotent producer, one request in flight, no topic auto-creation. */
export class KafkajsProducerDriver implements ProducerDriver {
  private readonly producer: Producer;

  constructor(connection: KafkaConnection, logger: Logger) {
    // One request in flight keeps the idempotent producer's sequence numbers in order; batching recovers throughput.
    this.producer = createKafka(connection, logger).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
  }

  connect(): Promise<void> {
    return kafkajsCall(() => this.producer.connect());
  }

  disconnect(): Promise<void> {
    return kafkajsCall(() => this.producer.disconnect());
  }

  async send(records: OutgoingRecord[]): Promise<void> {
    await kafkajsCall(() => this.producer.sendBatch({ acks: -1, topicMessages: topicMessagesOf(records) }));
  }
}

function topicMessagesOf(records: OutgoingRecord[]): Array<{ topic: string; messages: Message[] }> {
  const byTopic = new Map<string, Message[]>();
  for (const record of records) {
    const messages = byTopic.get(record.topic) ?? [];
    messages.push({
      key: record.key,
      value: record.value,
      headers: record.headers,
      ...(record.partition === undefined ? {} : { partition: record.partition }),
    });
    byTopic.set(record.topic, messages);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
