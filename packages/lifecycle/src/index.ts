export type { Service } from "./service";
export { silentLogger, type LifecycleLogger } from "./logger";
export { ServiceStack, type EntryOptions, type ServiceStackOptions } from "./service-stack";
export {
  StackCloseError,
  StackClosedError,
  StartRollbackError,
  StopTimeoutError,
  type StopFailure,
} from "./errors";
export { runService, type RunServiceOptions, type SignalSource } from "./run-service";
export { ExitCode } from "./exit-code";
export {
  EnvConfigError,
  LOG_LEVELS,
  envBoolean,
  envFileContent,
  envInteger,
  envIssues,
  envMilliseconds,
  envOneOf,
  envRequired,
  envText,
  parseEnv,
  secretFromEnv,
  secretOf,
  shown,
  type Env,
  type LogLevel,
} from "./env";
export {
  MAX_TIMER_MS,
  TIMED_OUT,
  abortable,
  assertTimeoutMs,
  raceDeadline,
  sleep,
  withDeadline,
} from "./deadline";
export { StartStop, type StartStopSteps } from "./start-stop";
export { isUntrustedCertificateCode } from "./tls-errors";
