import { runService } from "@omnidaemon/lifecycle";
import { failureStatusOf } from "@omnidaemon/protocol";
import { loadSdkConfig, OmniDaemon, SdkConfigError, type EngineObserver } from "@omnidaemon/sdk";
import pino from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { agentsModuleFrom, loadWorkerConfig, WorkerConfigError, type WorkerConfig } from "./config";
import { loadAgents } from "./load-agents";
import { ThrottleMetrics, WorkerMetrics } from "./metrics";
import { ProbeServer } from "./probes";
import { WebhookDeliverer, webhookMetricOutcome } from "./webhooks";

/** How often each agent's DLQ depth is read for `omnidaemon_dlq_depth` (the worker's own dead letters count at once). */
const DLQ_DEPTH_INTERVAL_MS = 30_000;

function fail(message: string): never {
  process.stderr.write(`omnidaemon worker: ${message}\n`);
  process.exit(2);
}

/**
 * `omnidaemon worker --agents ./agents.js`: the SDK plus a loader. One lifecycle stack, entered in start-up order
 * (below) and stopped in reverse on SIGTERM: probes, the DLQ manager's depth reads, every agent drains and commits
 * and leaves its group, the control follower, deregistration, the admin client, the producer's flush, webhooks.
 */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
  argv = process.argv.slice(2),
): Promise<void> {
  // The SDK reads its own variables (Kafka, coordinator) again at start; checking them here too refuses every bad
  // variable at once with exit 2, before anything connects, instead of failing the build of the stack.
  const issues: string[] = [];
  let config: WorkerConfig | undefined;
  try {
    config = loadWorkerConfig(env);
  } catch (error) {
    if (!(error instanceof WorkerConfigError)) throw error;
    issues.push(error.message);
  }
  try {
    loadSdkConfig(env);
  } catch (error) {
    if (!(error instanceof SdkConfigError)) throw error;
    issues.push(error.message);
  }
  if (config === undefined || issues.length > 0) fail(`invalid configuration: ${issues.join("; ")}`);
  const agentsModule = agentsModuleFrom(argv, config);
  if (!agentsModule) fail("no agents: pass --agents <module> or set OMNIDAEMON_AGENTS_MODULE");
  let definitions;
  try {
    definitions = await loadAgents(agentsModule);
  } catch (error) {
    fail((error as Error).message);
  }

  const logger = pino({ level: config.logLevel, base: { component: "worker" } });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "omnidaemon_worker_" });
  const metrics = new WorkerMetrics({ registry });
  // Each agent's fleet-wide limits as this worker enforces them, read from its throttle at scrape time.
  const throttleMetrics = new ThrottleMetrics({ registry });
  const webhooks = new WebhookDeliverer({
    logger,
    allowPrivateAddresses: config.webhookAllowPrivate,
    ...config.webhookLimits,
    ...(config.webhookSecret === undefined ? {} : { secret: config.webhookSecret }),
    onOutcome: (outcome, meta) =>
      metrics.webhook(webhookMetricOutcome(outcome), { topic: meta.topic, agent: meta.agent }),
  });
  // Webhooks get terminal outcomes: the result on success, the error when the event is dead-lettered.
  const webhookObserver: EngineObserver = {
    onSucceeded: ({ envelope, agent, result, attempt }) => {
      if (!envelope.webhook) return;
      const body = {
        task_id: envelope.id,
        topic: envelope.topic,
        agent,
        status: "completed",
        attempt,
        result,
      };
      void webhooks.deliver(envelope.webhook, body, { taskId: envelope.id, topic: envelope.topic, agent });
    },
    onFailed: ({ envelope, agent, summary, outcome, attempt }) => {
      if (!envelope.webhook || outcome === "retry") return;
      // The same status and error summary the task event reports (the protocol's mapping).
      const body = {
        task_id: envelope.id,
        topic: envelope.topic,
        agent,
        status: failureStatusOf(outcome),
        attempt,
        error: summary,
      };
      void webhooks.deliver(envelope.webhook, body, { taskId: envelope.id, topic: envelope.topic, agent });
    },
  };
  const sdk = new OmniDaemon({
    env,
    logger,
    observers: [metrics, webhookObserver],
    dlqDepthIntervalMs: DLQ_DEPTH_INTERVAL_MS,
  });
  for (const definition of definitions) await sdk.registerAgent(definition);
  // Built, not started: each starts when entered below.
  const { producer, admin, coordinatorLink, controlFollower, agents, dlqManager } = sdk.services();
  metrics.readDlqDepthsFrom(dlqManager);

  await runService(
    async (stack) => {
      await stack.enter(webhooks);
      await stack.enter(producer);
      await stack.enter(admin);
      await admin.ensureSystemTopics();
      // Stopped after the consumers, so the worker deregisters only once they have left their groups.
      await stack.enter(coordinatorLink);
      // Every agent's desired state, read before any consumer starts: a paused agent never consumes.
      await stack.enter(controlFollower);
      // All consumers stop fetching at once and drain in parallel within the drain budget. The margin is for a drain
      // that ends by aborting callbacks that ignore their signal: waiting for them briefly, then committing still
      // beats exiting half-closed; runService's deadline is the hard stop.
      await stack.enter(agents, { stopTimeoutMs: config.shutdownTimeoutMs + 10_000 });
      for (const consumer of sdk.agentConsumers()) {
        throttleMetrics.track(consumer.names.topic, consumer.names.agent, consumer.throttle);
      }
      // Its writes need only the producer, so the consumers draining after it stopped still dead-letter.
      await stack.enter(dlqManager);
      // A paused agent has no running consumer, so its lag comes from committed offsets (section 8: lag is
      // reported while paused too). Every worker reports it; dashboards take the max per partition.
      const lagTimer = setInterval(() => {
        for (const { topic, name, status } of sdk.statuses()) {
          if (!status.paused) continue;
          sdk.lag(topic, name).then(
            (partitions) => partitions.forEach((p) => metrics.setLag(topic, name, p.partition, p.lag)),
            (error: unknown) =>
              logger.debug({ err: error, topic, agent: name }, "lag of a paused agent unavailable"),
          );
        }
      }, 15_000);
      stack.defer("paused-lag", () => clearInterval(lagTimer));
      const probes = await stack.enter(
        new ProbeServer({
          port: config.metricsPort,
          host: config.metricsHost,
          registry,
          consumers: () => sdk.agentConsumers(),
          logger,
        }),
      );
      logger.info({ agents: definitions.length, probes: probes.address() }, "worker ready");
    },
    { logger, shutdownTimeoutMs: config.shutdownTimeoutMs + 15_000 },
  );
}

if (require.main === module) void main();
