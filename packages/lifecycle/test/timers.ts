import { createHook } from "node:async_hooks";

/**
 * Counts the timers created from now on that are still armed. Precise where the process-wide count is not:
 * jest's own timers come and go while a test file starts.
 */
export function trackTimers(): { live(atMost: number): Promise<number>; stop(): void } {
  const armed = new Set<number>();
  const hook = createHook({
    init: (asyncId, type) => void (type === "Timeout" && armed.add(asyncId)),
    destroy: (asyncId) => void armed.delete(asyncId),
  }).enable();
  return {
    /**
     * The number of armed timers once it has come down to `atMost`, or after a second if it does not. Node runs
     * destroy hooks from its own queue a turn or more after a timer is cleared (later on a loaded machine), so a
     * single turn is not enough; a timer that stays armed still shows after the second.
     */
    live: async (atMost) => {
      const giveUpAt = Date.now() + 1_000;
      do await new Promise((resolve) => setImmediate(resolve));
      while (armed.size > atMost && Date.now() < giveUpAt);
      return armed.size;
    },
    stop: () => void hook.disable(),
  };
}

/** Ref'd timers of the whole process, what keeps the event loop alive. */
export function countTimeouts(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
}
