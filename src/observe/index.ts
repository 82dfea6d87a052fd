/**
 * `ebind/observe`: the HTTP endpoints of observability — `/metrics` for any prom-client-like
 * registry, and a worker's liveness (`/healthz`) and readiness (`/readyz`) probes — to mount in your
 * own server or to start on a port of their own. No optional dependency: the metrics themselves come
 * from `ebind/prometheus` (or your own registry).
 *
 * @example
 * import { serveObservability } from "ebind/observe";
 * import { prometheusMetrics } from "ebind/prometheus";
 *
 * const metrics = prometheusMetrics();
 * const worker = await Worker.start(broker, registry, { telemetry: metrics.telemetry });
 * metrics.observeWorker(worker);
 * const obs = await serveObservability({ port: 9464, metrics, worker });
 *
 * @example
 * // Mounted in an existing server instead
 * const onMetrics = metricsHandler(metrics);
 * const onReady = readinessHandler(worker);
 * @module
 */
export { metricsHandler, livenessHandler, readinessHandler, serveObservability } from "./http.js";
export type { MetricsSource, RequestHandler, ObservabilityServerOptions, ObservabilityServer } from "./http.js";
export { liveness, readiness } from "./probes.js";
export type { HealthSource, ProbeAnswer } from "./probes.js";
