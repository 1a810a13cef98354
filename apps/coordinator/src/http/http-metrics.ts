import { Counter, Histogram, type Registry } from "prom-client";

export const HTTP_REQUESTS_TOTAL = "omnidaemon_coordinator_http_requests_total";
export const HTTP_REQUEST_DURATION = "omnidaemon_coordinator_http_request_duration_seconds";

/** Label value for requests that matched no route, so a scan of random URLs cannot explode the series count. */
export const UNMATCHED_ROUTE = "unmatched";

export interface HttpMetrics {
  observe(method: string, route: string | undefined, status: number, seconds: number): void;
}

const LABELS = ["method", "route", "status"] as const;

/**
 * The HTTP layer's own metrics on the injected registry. A second server on the same registry (tests, a
 * restart in-process) reuses the registered metrics instead of failing on the duplicate name.
 */
export function createHttpMetrics(registry: Registry): HttpMetrics {
  const requests = registered(
    registry,
    HTTP_REQUESTS_TOTAL,
    () =>
      new Counter({
        name: HTTP_REQUESTS_TOTAL,
        help: "HTTP requests answered by the coordinator API, by method, route pattern and status code.",
        labelNames: LABELS,
        registers: [registry],
      }),
  );
  const duration = registered(
    registry,
    HTTP_REQUEST_DURATION,
    () =>
      new Histogram({
        name: HTTP_REQUEST_DURATION,
        help: "Time to answer an HTTP request of the coordinator API, by method, route pattern and status code.",
        labelNames: LABELS,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
  );
  return {
    observe(method, route, status, seconds) {
      const labels = { method, route: route ?? UNMATCHED_ROUTE, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}

/** The metric already registered as `name` on `registry`, or the one `create` makes and registers. */
function registered<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
