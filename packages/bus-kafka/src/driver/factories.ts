// The one place that picks a driver implementation from \`connection.client\` (OMNIDAEMON_KAFKA_CLIENT). The
// interfaces live in admin.ts and producer.ts, apart from the implementations that import them, so the module graph
// has no cycle.
import type { Logger } from "pino";
import type { KafkaConnection } from "../config";
import type { AdminDriver } from "./admin";
import { KafkajsAdminDriver } from "./kafkajs/admin";
import { KafkajsProducerDriver } from "./kafkajs/producer";
import { PlatformaticAdminDriver } from "./platformatic/admin";
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
