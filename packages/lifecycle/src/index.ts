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
