import { BusAdmin, DlqManager, KafkaProducer } from "@omnidaemon/bus-kafka";
import { runService, type ServiceStack } from "@omnidaemon/lifecycle";
import { migrateDatabase, PgStore } from "@omnidaemon/store-pg";
import pino, { type Logger } from "pino";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { ConfigError, loadCoordinatorConfig, redactConfig, type CoordinatorConfig } from "./config";
import {
  coordinatorServices,
  databaseOptions,
  kafkaConnection,
  type CoordinatorHandles,
  type CoordinatorOptions,
} from "./coordinator";
import { buildHttpServer } from "./http";
import { CleanupJob } from "./services/cleanup-job";
import { ControlPublisher } from "./services/control-publisher";
import { MetricsHistory } from "./services/metrics-history";
import { ResultSweeper } from "./services/result-sweeper";
import { TaskIngestor } from "./services/task-ingestor";
import { WorkerPurger } from "./services/worker-purger";

/**
 * `omnidaemon coordinator [migrate]`: parse the environment once, then either apply the database migrations and
 * exit (a Helm pre-install/pre-upgrade hook job), or build one lifecycle stack and run until a signal.
 */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
  argv = process.argv.slice(2),
): Promise<void> {
  let config;
  try {
    config = loadCoordinatorConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`omnidaemon coordinator: invalid configuration\n  ${error.issues.join("\n  ")}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.logLevel, base: { component: "coordinator" } });
  if (argv[0] === "migrate") {
    try {
      const outcome = await migrateDatabase({ ...databaseOptions(config), logger });
      logger.info({ ...outcome, schema: config.database.schema }, "migrations applied");
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, "migrations failed");
      process.exit(1);
    }
  }
  if (argv.length > 0) {
    process.stderr.write(
      `omnidaemon coordinator: unknown argument "${argv[0]}" (expected nothing or "migrate")\n`,
    );
    process.exit(2);
  }
  logger.info({ config: redactConfig(config) }, "coordinator starting");
  await runService(
    async (stack) => {
      const { http } = await enterCoordinator(stack, config, logger);
      logger.info({ url: http.address()?.url }, "coordinator ready");
    },
    { logger, shutdownTimeoutMs: config.shutdownTimeoutMs },
  );
}

/**
 * The coordinator's start-up order: each service entered into `stack` once the ones it needs are running —
 * Postgres, the leader lock, producer, admin (system topics), DLQ manager, control publisher, task ingestion, the
 * background jobs, and last the HTTP server — so shutdown stops taking requests first and closes Postgres last.
 * The integration suites build their coordinators with this too (test/support.ts).
 */
export async function enterCoordinator(
  stack: ServiceStack,
  config: CoordinatorConfig,
  logger: Logger,
  options: CoordinatorOptions = {},
): Promise<CoordinatorHandles> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "omnidaemon_coordinator_" });
  const connection = kafkaConnection(config);

  const pg = await stack.enter(
    new PgStore({ ...databaseOptions(config), logger, resultTtlMs: config.resultTtlMs }),
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
  const services = coordinatorServices({
    config,
    logger,
    pg,
    producer,
    admin,
    dlq,
    control,
    ingestion,
    history,
  });
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

if (require.main === module) void main();
