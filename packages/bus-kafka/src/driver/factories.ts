// The one place that picks a driver implementation from \`connection.client\` (OMNIDAEMON_KAFKA_CLIENT). The
// interfaces live in admin.ts, producer.ts and consumer.ts, apart from the implementations that import them, so the
// module graph has no cycle.
import type { Logger } from "pino";
import { parseKafkaConnection, type KafkaConnection, type KafkaConnectionInput } from "../config";
import type { AdminDriver } from "./admin";
import type { GroupConsumer, GroupConsumerOptions } from "./consumer";
import { KafkajsAdminDriver } from "./kafkajs/admin";
import { KafkajsGroupConsumer } from "./kafkajs/consumer";
import { KafkajsProducerDriver } from "./kafkajs/producer";
import { PlatformaticAdminDriver } from "./platformatic/admin";
import { PlatformaticGroupConsumer } from "./platformatic/consumer";
import { PlatformaticProducerDriver } from "./platformatic/producer";
import type { ProducerDriver } from "./producer";

/** The admin driver of the connection's client (`OMNIDAEMON_KAFKA_CLIENT`). No I/O until `connect()`. */
export function createAdminDriver(connection: KafkaConnection, logger: Logger): AdminDriver {
  switch (connection.client) {
    case "kafkajs":
      return new KafkajsAdminDriver(connection, logger);
    case "platformatic":
      return new PlatformaticAdminDriver(connection);
  }
}

/** The producer driver of the connection's client (`OMNIDAEMON_KAFKA_CLIENT`). No I/O until `connect()`. */
export function createProducerDriver(connection: KafkaConnection, logger: Logger): ProducerDriver {
  switch (connection.client) {
    case "kafkajs":
      return new KafkajsProducerDriver(connection, logger);
    case "platformatic":
      return new PlatformaticProducerDriver(connection);
  }
}

/** The group consumer of the connection's client (`OMNIDAEMON_KAFKA_CLIENT`). No I/O until `start()`. */
export function createGroupConsumer(
  connection: KafkaConnectionInput,
  logger: Logger,
  options: GroupConsumerOptions,
): GroupConsumer {
  const parsed = parseKafkaConnection(connection);
  switch (parsed.client) {
    case "kafkajs":
      return new KafkajsGroupConsumer(parsed, logger, options);
    case "platformatic":
      return new PlatformaticGroupConsumer(parsed, logger, options);
  }
}
