import { BusAdmin, DlqManager, KafkaProducer, type KafkaConnectionInput } from "@omnidaemon/bus-kafka";
import type { ServiceStack } from "@omnidaemon/lifecycle";
import { PgStore } from "@omnidaemon/store-pg";
import type { Logger } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { CoordinatorConfig } from "./config";
import { buildHttpServer, type HttpServer } from "./http";
import { CleanupJob } from "./services/cleanup-job";
import { ControlPlane } from "./services/control-plane";
import { ControlPublisher } from "./services/control-publisher";
import { ResultSweeper } from "./services/result-sweeper";
import { TaskIngestor } from "./services/task-ingestor";
import { storeAdapter } from "./store-adapter";

/** How often workers are asked to heartbeat; the timeout (config) is a few of these. */
export const HEARTBEAT_INTERVAL_MS = 5000;

export interface CoordinatorHandles {
  http: HttpServer;
  services: ControlPlane;
  cleanup: CleanupJob;
  sweeper: ResultSweeper;
  registry: Registry;
}

export function kafkaConnection(config: CoordinatorConfig): KafkaConnectionInput {
  return {
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    ssl: config.kafka.ssl,
    ...(config.kafka.sasl ? { sasl: config.kafka.sasl } : {}),
  };
}

/**
 * Enters the coordinator's services into `stack` in dependency order — Postgres, producer, admin (system topics),
 * DLQ manager, control publisher, task ingestion, background jobs, and last the HTTP server — so shutdown stops
 * taking requests first and closes Postgres last.
 */
export async function buildCoordinator(
  stack: ServiceStack,
  config: CoordinatorConfig,
  logger: Logger,
  options: { cleanupIntervalMs?: number; reconcileIntervalMs?: number } = {},
): Promise<CoordinatorHandles> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "omnidaemon_coordinator_" });
  const connection = kafkaConnection(config);

  const pg = await stack.enter(
    new PgStore({
      databaseUrl: config.database.url,
      schema: config.database.schema,
      logger,
      resultTtlMs: config.resultTtlMs,
    }),
  );
  const store = storeAdapter(pg);
  const producer = await stack.enter(new KafkaProducer({ connection, logger }));
  const admin = await stack.enter(new BusAdmin({ connection, logger }));
  await admin.ensureSystemTopics();
  const dlq = await stack.enter(new DlqManager({ connection, publisher: producer, logger }));
  const control = await stack.enter(
    new ControlPublisher(store, producer, logger, options.reconcileIntervalMs),
  );
  const ingestion = await stack.enter(
    new TaskIngestor(connection, store, config.resultTtlMs, logger, registry),
  );
  const cleanup = await stack.enter(new CleanupJob(store, admin, logger, options.cleanupIntervalMs));
  const sweeper = await stack.enter(new ResultSweeper(store, logger));

  const services = new ControlPlane({
    store,
    admin,
    dlq,
    producer,
    control,
    ingestion,
    logger,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    resultTtlMs: config.resultTtlMs,
  });
  const http = await stack.enter(
    buildHttpServer({
      services,
      logger,
      registry,
      config: {
        host: config.api.host,
        port: config.api.port,
        ...(config.api.token === undefined ? {} : { apiToken: config.api.token }),
      },
    }),
  );
  return { http, services, cleanup, sweeper, registry };
}
