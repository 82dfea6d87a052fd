/**
 * `ebind/prometheus`: Prometheus metrics of tasks, workers and workflows on a prom-client registry.
 * Needs the optional peer dependency `prom-client` (15.x); nothing else in ebind loads it. Serve the
 * registry with `metricsHandler` or `serveObservability` from `ebind/observe`, or your own server.
 *
 * @example
 * import { prometheusMetrics } from "ebind/prometheus";
 * import { serveObservability } from "ebind/observe";
 *
 * const metrics = prometheusMetrics();
 * const client = await Client.create(broker, { telemetry: metrics.telemetry });
 * const worker = await Worker.start(broker, registry, { telemetry: metrics.telemetry });
 * metrics.observeWorker(worker);
 * const obs = await serveObservability({ port: 9464, metrics, worker });
 * // GET http://127.0.0.1:9464/metrics, /healthz, /readyz
 * @module
 */
export { prometheusMetrics } from "./metrics.js";
export type { PrometheusMetrics } from "./metrics.js";
export {
  resolvePrometheusOptions,
  DEFAULT_DAG_STATUS_REFRESH_MS,
  DEFAULT_DURATION_BUCKETS_MS,
  DEFAULT_PREFIX,
  DEFAULT_QUEUE_WAIT_BUCKETS_MS,
  DEFAULT_SCHEDULER_LAG_BUCKETS_MS,
  DEFAULT_SCRAPE_TIMEOUT_MS,
} from "./options.js";
export type { PrometheusMetricsOptions, ResolvedPrometheusOptions } from "./options.js";
export type { ObservableWorker, ObservableWorkflow } from "./sources.js";
