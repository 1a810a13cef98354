// The coordinator's pieces that are not its start-up order (that is main.ts's enterCoordinator): the handles it
// returns, its options, and the services by concern wired over the started parts.
import type { BusAdmin, DlqManager, KafkaConnectionInput, KafkaProducer } from "@omnidaemon/bus-kafka";
import type { PgStore } from "@omnidaemon/store-pg";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { CoordinatorConfig } from "./config";
import type { HttpServer } from "./http";
import { BusInspection } from "./services/bus-inspection";
import type { CleanupJob } from "./services/cleanup-job";
import type { ControlPublisher } from "./services/control-publisher";
import { FleetHealth } from "./services/fleet-health";
import type { MetricsHistory } from "./services/metrics-history";
import { AgentRegistry } from "./services/registry";
import type { ResultSweeper } from "./services/result-sweeper";
import { TaskDesk } from "./services/tasks";
import type { TaskIngestor } from "./services/task-ingestor";
import type { CoordinatorServices } from "./services/types";
import type { WorkerPurger } from "./services/worker-purger";

/** How often workers are asked to heartbeat; the timeout (config) is a few of these. */
export const HEARTBEAT_INTERVAL_MS = 5000;

export interface CoordinatorHandles {
  http: HttpServer;
  services: CoordinatorServices;
  cleanup: CleanupJob;
  sweeper: ResultSweeper;
  purger: WorkerPurger;
  /** Whether this replica runs the leader-only jobs (sweeps, purges, control reconciliation, DLQ/group cleanup). */
  leadership: { isLeader(): boolean };
  registry: Registry;
}

export function kafkaConnection(config: CoordinatorConfig): KafkaConnectionInput {
  return config.kafka;
}

/** The PgStore/migrateDatabase options for the configured database: URL (TLS by sslmode), CA, password. */
export function databaseOptions(config: CoordinatorConfig): {
  databaseUrl: string;
  schema: string;
  sslCa?: string;
  password?: string;
} {
  const { url, schema, sslCa, password } = config.database;
  return {
    databaseUrl: url,
    schema,
    ...(sslCa === undefined ? {} : { sslCa }),
    ...(password === undefined ? {} : { password }),
  };
}

/** Test and tuning knobs of {@link enterCoordinator} (main.ts); production uses every default. */
export interface CoordinatorOptions {
  cleanupIntervalMs?: number;
  reconcileIntervalMs?: number;
  workerPurgeIntervalMs?: number;
  leaderCheckIntervalMs?: number;
  /** How often the counters are sampled for `GET /metrics/history`. @default 10000 */
  historyIntervalMs?: number;
  /** Check every answer against the protocol's response schemas (tests; see HttpServerOptions). */
  checkResponses?: boolean;
}

/**
 * The services by concern, over the started pieces (main.ts enters those); each has its own routes file
 * (http/routes). They use store-pg's repositories directly.
 */
export function coordinatorServices(parts: {
  config: CoordinatorConfig;
  logger: Logger;
  pg: PgStore;
  producer: KafkaProducer;
  admin: BusAdmin;
  dlq: DlqManager;
  control: ControlPublisher;
  ingestion: TaskIngestor;
  history: MetricsHistory;
}): CoordinatorServices {
  const { config, logger, pg, producer, admin, dlq, control, ingestion, history } = parts;
  const registry = new AgentRegistry({
    store: pg,
    admin,
    control,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
  });
  return {
    registry,
    tasks: new TaskDesk({
      store: pg,
      admin,
      producer,
      resultTtlMs: config.resultTtlMs,
      history,
      requireAgent: (topic, name) => registry.requireAgent(topic, name),
    }),
    fleet: new FleetHealth({
      store: pg,
      admin,
      ingestion,
      logger,
      heartbeatTimeoutMs: config.heartbeatTimeoutMs,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    }),
    bus: new BusInspection({
      admin,
      dlq,
      audit: pg.audit,
      requireAgent: (topic, name) => registry.requireAgent(topic, name),
    }),
  };
}
