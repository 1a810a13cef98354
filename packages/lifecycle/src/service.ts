/**
 * A long-lived component with a start and a stop, entered into a {@link ServiceStack} by an app's `main.ts`.
 *
 * The constructor does no I/O and starts no timers; `start()` acquires, `stop()` releases.
 *
 * `stop()` must be idempotent and safe to call when `start()` never ran or threw part way: the stack calls it
 * after a failed `start()` too, so a service can release whatever it had acquired before failing.
 */
export interface Service {
  /** Names the service in logs and in errors; need not be unique, but unique names make logs readable. */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
