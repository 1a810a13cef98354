// Waiting in tests: one polling loop for every "until this is true", bounded, with a message that names what was
// awaited, the last error the probe threw and, when given, the state of things at the deadline.
import { sleep } from "@omnidaemon/lifecycle";

/** Resolves after `ms` (lifecycle's `sleep`, without a signal). */
export function delay(ms: number): Promise<void> {
  return sleep(ms);
}

/**
 * Thrown by a probe to end a wait at once, when what it waits for can no longer happen (the process it watches
 * exited, the coordinator died): {@link waitFor} then rejects with "gave up waiting for <what>: <message>".
 */
export class StopWaiting extends Error {}

/**
 * Polls `probe` every `intervalMs` until it returns something other than undefined or false, and resolves with that.
 * A probe that throws is asked again (its last error is named if the wait times out), except for {@link StopWaiting},
 * which ends the wait at once. After `timeoutMs`, rejects with "timed out after … waiting for <what>", the last error
 * and `diagnostics()`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 100,
  diagnostics?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (error instanceof StopWaiting) throw new Error(`gave up waiting for ${what}: ${error.message}`);
      last = error;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? ` (last error: ${last.message})` : "";
      const extra = diagnostics ? `\n${diagnostics()}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}${extra}`);
    }
    await delay(intervalMs);
  }
}
