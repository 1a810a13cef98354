/**
 * The logging surface lifecycle needs. A pino logger fits as is: like pino, it takes the fields first and a
 * constant message second.
 */
export interface LifecycleLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const ignore = (): void => {};

/** Drops every line; the default of {@link ServiceStack}, so tests and libraries need no logger. */
export const silentLogger: LifecycleLogger = Object.freeze({ info: ignore, warn: ignore, error: ignore });
