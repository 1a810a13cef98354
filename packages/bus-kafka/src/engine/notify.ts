import type { Logger } from "pino";

/**
 * Calls one observer hook. Observers must not throw; one that does is logged and ignored, so a broken metrics or
 * webhook hook never breaks a delivery, a commit or a rebalance.
 */
export function notify(logger: Logger, hook: string, call: () => void): void {
  try {
    call();
  } catch (error) {
    logger.warn({ err: error, hook }, "observer hook threw; ignored");
  }
}
