import type { Logger } from "pino";
import type { KafkaConnection } from "../../config";
import { platformaticBaseOptions } from "./connection";
import { platformatic } from "./load";

/** Kafka's config resource type of a consumer group (KIP-848 group configs). */
const GROUP_RESOURCE = 32;
const SET = 0;

/**
 * Under the consumer group protocol (KIP-848) the broker, not the member, owns the session timeout and the
 * heartbeat interval: they are configs of the group (`consumer.session.timeout.ms`, `consumer.heartbeat.interval.ms`),
 * bounded by the broker's `group.consumer.min/max.*` settings. This sets them from the consumer's options, best
 * effort: a broker whose bounds refuse them (stock minimums are 45 s and 5 s), or a principal without ALTER_CONFIGS
 * on the group, leaves the group on the broker's defaults, which is logged once. Never throws.
 */
export async function applyGroupTimeouts(
  connection: KafkaConnection,
  logger: Logger,
  groupId: string,
  timeouts: { sessionTimeoutMs?: number; heartbeatIntervalMs?: number },
): Promise<void> {
  const configs: Array<{ name: string; configOperation: 0; value: string }> = [];
  // The heartbeat first: the broker checks each against the group's other one (session > heartbeat).
  if (timeouts.heartbeatIntervalMs !== undefined) {
    configs.push({
      name: "consumer.heartbeat.interval.ms",
      configOperation: SET,
      value: String(timeouts.heartbeatIntervalMs),
    });
  }
  if (timeouts.sessionTimeoutMs !== undefined) {
    configs.push({
      name: "consumer.session.timeout.ms",
      configOperation: SET,
      value: String(timeouts.sessionTimeoutMs),
    });
  }
  if (configs.length === 0) return;
  const { Admin } = platformatic();
  const admin = new Admin({ ...platformaticBaseOptions(connection), retries: 1 });
  const alter = (list: typeof configs): Promise<unknown> =>
    admin.incrementalAlterConfigs({
      resources: [{ resourceType: GROUP_RESOURCE, resourceName: groupId, configs: list }],
    });
  try {
    try {
      // Together, so the pair is checked as a pair (a shorter session than the group's current heartbeat is fine
      // when the heartbeat shrinks with it).
      await alter(configs);
      return;
    } catch (error) {
      if (configs.length === 1 || brokerReason(error) === undefined) {
        logRefused(logger, configs, error);
        return;
      }
    }
    // The broker refuses a request all or nothing: apply what it accepts, one at a time.
    for (const config of configs) {
      await alter([config]).catch((error: unknown) => logRefused(logger, [config], error));
    }
  } finally {
    await admin.close().catch(() => undefined);
  }
}

function logRefused(logger: Logger, configs: Array<{ name: string; value: string }>, error: unknown): void {
  logger.info(
    {
      configs: Object.fromEntries(configs.map((c) => [c.name, c.value])),
      reason: brokerReason(error) ?? (error instanceof Error ? error.message : String(error)),
    },
    "the broker keeps its defaults for these group settings",
  );
}

/**
 * The broker's own words, when the error carries them (an INVALID_CONFIG names the bound it broke); undefined for an
 * error that is not the broker's answer (it could not be reached).
 */
function brokerReason(error: unknown): string | undefined {
  const found: string[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 4 || value === null || typeof value !== "object") return;
    const { serverErrorMessage, apiId, errors } = value as {
      serverErrorMessage?: unknown;
      apiId?: unknown;
      errors?: unknown;
    };
    if (typeof serverErrorMessage === "string") found.push(serverErrorMessage);
    else if (typeof apiId === "string") found.push(apiId);
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1);
  };
  visit(error, 0);
  return found[0];
}
