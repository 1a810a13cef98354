// Public surface of the worker's metrics and health endpoint.
export {
  DEFAULT_POLL_STALL_MS,
  PROBE_PROBLEMS,
  liveness,
  readiness,
  type ConsumerSnapshot,
  type LivenessOptions,
  type ProbeProblem,
  type ProbeProblemCode,
  type ProbeVerdict,
} from "./consumer-health";
export { ConsumerProgressTracker, defaultStallAfterMs, type ProbeConsumer } from "./progress-tracker";
export { ProbeServer, type ProbeServerOptions } from "./probe-server";
