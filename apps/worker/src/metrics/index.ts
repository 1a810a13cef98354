// Public surface of the worker's Prometheus metrics.
export {
  HANDLER_DURATION_BUCKETS,
  WorkerMetrics,
  type WebhookDeliveryOutcome,
  type WorkerMetricsOptions,
} from "./worker-metrics";
