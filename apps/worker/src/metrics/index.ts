// Public surface of the worker's Prometheus metrics.
export {
  HANDLER_DURATION_BUCKETS,
  WorkerMetrics,
  type DlqDepthSource,
  type WebhookDeliveryOutcome,
  type WorkerMetricsOptions,
} from "./worker-metrics";
export {
  NO_TENANT_LABEL,
  OTHER_TENANTS_LABEL,
  ThrottleMetrics,
  tenantSeries,
  type ThrottleMetricsOptions,
  type ThrottleSource,
} from "./throttle-metrics";
