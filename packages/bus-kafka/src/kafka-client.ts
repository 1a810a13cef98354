import { Kafka, logLevel, type LogEntry, type SASLOptions } from "kafkajs";
import type { Logger } from "pino";
import { parseKafkaConnection, type KafkaConnectionInput } from "./config";

/**
 * Builds a kafkajs client whose logs go through our pino logger (kafkajs logs are noisy at info: its INFO becomes
 * our debug). Internal to this package: kafkajs types never leave it.
 */
export function createKafka(input: KafkaConnectionInput, logger: Logger): Kafka {
  const connection = parseKafkaConnection(input);
  const log = logger.child({ component: "kafkajs" });
  return new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    ssl: connection.ssl,
    // zod keeps mechanism as a union; kafkajs wants the discriminated form, which is the same data.
    ...(connection.sasl ? { sasl: connection.sasl as SASLOptions } : {}),
    connectionTimeout: connection.connectionTimeoutMs,
    requestTimeout: connection.requestTimeoutMs,
    logLevel: logLevel.INFO,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _name, ...fields } = entry;
        if (level === logLevel.ERROR) log.warn(fields, message);
        else if (level === logLevel.WARN) log.info(fields, message);
        else log.debug(fields, message);
      },
  });
}
