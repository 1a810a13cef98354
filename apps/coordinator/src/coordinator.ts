import { BusAdmin, DlqManager, KafkaProducer, type KafkaConnectionInput } from "@omnidaemon/bus-kafka";
import type { ServiceStack } from "@omnidaemon/lifecycle";
import { PgStore } from "@omnidaemon/store-pg";
import type { Logger } from "pino";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { CoordinatorConfig } from "./config";
import { buildHttpServer, type HttpServer } from "./http";
import { BusInspection } from "./services/bus-inspection";
import { CleanupJob } from "./services/cleanup-job";
import { ControlPublisher } from "./services/control-publisher";
import { FleetHealth } from "./services/fleet-health";
import { MetricsHistory } from "./services/metrics-history";
import { AgentRegistry } from "./services/registry";
import { ResultSweeper } from "./services/result-sweeper";
import { TaskDesk } from "./services/tasks";
import { TaskIngestor } from "./services/task-ingestor";
import type { CoordinatorServices } from "./services/types";
import { WorkerPurger } from "./services/worker-purger";

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

/**
 * Enters the coordinator's services into `stack` in dependency order — Postgres, producer, admin (system topics),
 * DLQ manager, control publisher, task ingestion, background jobs, and last the HTTP server — so shutdown stops
 * taking requests first and closes Postgres last.
 */
export async function buildCoordinator(
  stack: ServiceStack,
  config: CoordinatorConfig,
  logger: Logger,
  options: {
    cleanupIntervalMs?: number;
    reconcileIntervalMs?: number;
    workerPurgeIntervalMs?: number;
    leaderCheckIntervalMs?: number;
    /** How often the counters are sampled for `GET /metrics/history`. @default 10000 */
    historyIntervalMs?: number;
    /** Check every answer against the protocol's response schemas (tests; see HttpServerOptions). */
    checkResponses?: boolean;
  } = {},
): Promise<CoordinatorHandles> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "omnidaemon_coordinator_" });
  const connection = kafkaConnection(config);

  const pg = await stack.enter(
    new PgStore({
      ...databaseOptions(config),
      logger,
      resultTtlMs: config.resultTtlMs,
    }),
  );
  // Replicas share the task-events group (ingestion scales out); the jobs that must run once follow this lock.
  const leaderGauge = new Gauge({
    name: "omnidaemon_coordinator_leader",
    help: "1 while this coordinator replica holds the leader lock and runs the leader-only jobs, else 0.",
    registers: [registry],
  });
  leaderGauge.set(0);
  const leadership = await stack.enter(
    pg.leaderLock({
      logger,
      onChange: (leader) => leaderGauge.set(leader ? 1 : 0),
      ...(options.leaderCheckIntervalMs === undefined ? {} : { intervalMs: options.leaderCheckIntervalMs }),
    }),
  );
  const producer = await stack.enter(new KafkaProducer({ connection, logger }));
  const admin = await stack.enter(new BusAdmin({ connection, logger }));
  await admin.ensureSystemTopics();
  const dlq = await stack.enter(new DlqManager({ connection, publisher: producer, logger }));
  const control = await stack.enter(
    new ControlPublisher(pg.agents, producer, logger, options.reconcileIntervalMs, undefined, leadership),
  );
  const ingestion = await stack.enter(new TaskIngestor(connection, pg, config.resultTtlMs, logger, registry));
  const cleanup = await stack.enter(
    new CleanupJob(pg.agents, admin, logger, options.cleanupIntervalMs, leadership),
  );
  const sweeper = await stack.enter(new ResultSweeper(pg.tasks, logger, undefined, leadership));
  const purger = await stack.enter(
    new WorkerPurger(pg.workers, config.workerRetentionMs, logger, options.workerPurgeIntervalMs, leadership),
  );
  // Every replica samples for itself: the console's charts come from whichever replica answers.
  const history = await stack.enter(
    new MetricsHistory(
      pg.counters,
      logger,
      options.historyIntervalMs === undefined ? {} : { intervalMs: options.historyIntervalMs },
    ),
  );

  // The services by concern; each has its own routes file (http/routes). They use store-pg's repositories directly.
  const registryService = new AgentRegistry({
    store: pg,
    admin,
    control,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
  });
  const services: CoordinatorServices = {
    registry: registryService,
    tasks: new TaskDesk({
      store: pg,
      admin,
      producer,
      resultTtlMs: config.resultTtlMs,
      history,
      requireAgent: (topic, name) => registryService.requireAgent(topic, name),
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
      requireAgent: (topic, name) => registryService.requireAgent(topic, name),
    }),
  };
  const http = await stack.enter(
    buildHttpServer({
      services,
      logger,
      registry,
      ...(options.checkResponses === undefined ? {} : { checkResponses: options.checkResponses }),
      config: {
        host: config.api.host,
        port: config.api.port,
        ...(config.api.token === undefined ? {} : { apiToken: config.api.token }),
      },
    }),
  );
  return { http, services, cleanup, sweeper, purger, leadership, registry };
}
