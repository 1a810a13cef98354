import { runService } from "@omnidaemon/lifecycle";
import { migrateDatabase } from "@omnidaemon/store-pg";
import pino from "pino";
import { ConfigError, loadCoordinatorConfig, redactConfig } from "./config";
import { buildCoordinator, databaseOptions } from "./coordinator";

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
      const { http } = await buildCoordinator(stack, config, logger);
      logger.info({ url: http.address()?.url }, "coordinator ready");
    },
    { logger, shutdownTimeoutMs: config.shutdownTimeoutMs },
  );
}

if (require.main === module) void main();
