import { createHook } from "node:async_hooks";

/**
 * Counts the timers created from now on that are still armed. Precise where the process-wide count is not:
 * jest's own timers come and go while a test file starts.
 */
export function trackTimers(): { live(): Promise<number>; stop(): void } {
  const armed = new Set<number>();
  const hook = createHook({
    init: (asyncId, type) => void (type === "Timeout" && armed.add(asyncId)),
    destroy: (asyncId) => void armed.delete(asyncId),
  }).enable();
  return {
    live: async () => {
      // Node runs destroy hooks a turn after a timer is cleared.
      await new Promise((resolve) => setImmediate(resolve));
      return armed.size;
    },
    stop: () => void hook.disable(),
  };
}

/** Ref'd timers of the whole process, what keeps the event loop alive. */
export function countTimeouts(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
}
