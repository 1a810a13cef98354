import { runService } from "@omnidaemon/lifecycle";
import pino from "pino";
import { ConfigError, loadCoordinatorConfig, redactConfig } from "./config";
import { buildCoordinator } from "./coordinator";

/** `omnidaemon coordinator`: parse the environment once, build one lifecycle stack, run until a signal. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  try {
    config = loadCoordinatorConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`omnidaemon coordinator: invalid configuration\n  ${error.issues.join("\n  ")}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.logLevel, base: { component: "coordinator" } });
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
