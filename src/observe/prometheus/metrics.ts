/**
 * `prometheusMetrics()`: ebind's Prometheus metrics on a prom-client registry — counters and
 * histograms fed by a {@link Telemetry} given to clients, workers, workflows and dead-letter
 * requeues, and gauges read from the workers and workflows it observes at each scrape.
 * @module
 */
import type { Registry } from "prom-client";
import type { Telemetry } from "../../broker/index.js";
import { EbindError } from "../../task/index.js";
import { registerGauges } from "./gauges.js";
import { createInstruments } from "./instruments.js";
import { resolvePrometheusOptions, type PrometheusMetricsOptions } from "./options.js";
import { DagSources } from "./dag-counts.js";
import { ScrapeReads, WorkerSources, type ObservableWorker, type ObservableWorkflow } from "./sources.js";
import { metricsTelemetry } from "./telemetry.js";

/** What {@link prometheusMetrics} returns. */
export interface PrometheusMetrics {
  /**
   * The hooks that feed the counters and histograms: pass it as the `telemetry` option of every
   * client, worker, workflow and requeue to count (with tracing as well: `combineTelemetry(otel,
   * metrics.telemetry)`). Label children are cached per task name and error kind: no lookup per task.
   */
  readonly telemetry: Telemetry;
  /** The registry holding the metrics (the `registry` option, or one made for them). */
  readonly registry: Registry;
  /** The Prometheus content type of {@link metrics}' text (the registry's). */
  readonly contentType: string;
  /** The registry's exposition text, collecting every gauge (what `GET /metrics` serves). Never rejects for an unreachable server. */
  metrics(): Promise<string>;
  /**
   * Serves the worker's gauges from now on: handlers in flight, free slots, ready and live (0/1),
   * abandoned handlers by task id, and the state of each durable it pulls from (pending, ack pending,
   * redelivered, waiting pulls; read at each scrape, each read bounded by `scrapeTimeoutMs`).
   * Observing the same worker again holds it once more (one source, its series once): each call
   * returns its own unobserve, and the series leave once every one of them was called (a refcount).
   * @returns the function that stops this observation (the series leave the next scrape after the
   *   last one); idempotent — a second call releases nothing more.
   * @throws EbindError `invalid_argument` when `worker` is not a Worker.
   */
  observeWorker(worker: ObservableWorker): () => void;
  /**
   * Serves `<prefix>dags{status}` for the workflow's DAG bucket from now on: DAGs by status, read
   * (every DAG's meta) at most every `dagStatusRefreshMs`, left out while a refresh fails; see
   * {@link PrometheusMetricsOptions.dagStatusRefreshMs}. A bucket is counted once: observing the
   * same workflow again, or another workflow on the same broker object (`workflow.broker`; one
   * broker, one bucket `ebind-dags`), holds the bucket once more (a refcount), read through the most
   * recent of them still observed. Workflows on different Broker objects count as different buckets,
   * even when connected to the same server. With several buckets the gauge is their sum, left out
   * whole while one of them has no young counts.
   * @returns the function that stops this observation (the bucket leaves the next scrape after the
   *   last one); idempotent.
   * @throws EbindError `invalid_argument` when `workflow` is not a Workflow.
   */
  observeWorkflow(workflow: ObservableWorkflow): () => void;
}

/**
 * Creates ebind's Prometheus metrics (`ebind/prometheus`; needs the optional peer dependency
 * prom-client). Metric names, with the default prefix `ebind_`:
 * - counters: `tasks_enqueued_total{task,publish}`, `tasks_publish_failed_total{task,publish}`,
 *   `tasks_started_total{task}`, `tasks_succeeded_total{task}`, `tasks_failed_total{task,kind}`,
 *   `tasks_retried_total{task,kind}`, `tasks_handed_back_total{task}`,
 *   `tasks_dead_lettered_total{task,kind}`, `dags_submitted_total`, `scrape_errors_total{source}`;
 * - histograms (seconds): `handler_duration_seconds{task,outcome}`, `queue_wait_seconds{task}`,
 *   `scheduler_event_lag_seconds{kind}`;
 * - gauges: `handlers_in_flight{worker}`, `worker_free_slots{worker}`, `worker_ready{worker}`,
 *   `worker_live{worker}`, `handlers_abandoned{worker,task,task_id}`,
 *   `consumer_pending_messages{stream,durable}`, `consumer_ack_pending_messages{…}`,
 *   `consumer_redelivered_messages{…}`, `consumer_waiting_pulls{…}`, `dags{status}`.
 *
 * @example
 * const metrics = prometheusMetrics();
 * const worker = await Worker.start(broker, registry, { telemetry: metrics.telemetry });
 * metrics.observeWorker(worker);
 * const server = await serveObservability({ port: 9464, metrics, worker }); // ebind/observe
 * @throws EbindError `invalid_argument` for a bad option (see {@link resolvePrometheusOptions});
 *   prom-client's Error when the registry already holds metrics of these names (same prefix twice).
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const o = resolvePrometheusOptions(options);
  const scrape = new ScrapeReads();
  const instruments = createInstruments(o, scrape);
  const workers = new WorkerSources(o.scrapeTimeoutMs, instruments.scrapeErrors);
  const workflows = new DagSources(o.dagStatusRefreshMs, o.scrapeTimeoutMs, instruments.scrapeErrors);
  registerGauges(o, workers, workflows, scrape);
  o.registry.registerMetric(instruments.scrapeErrors);
  // Known label values start at 0, so rate() sees the first error.
  for (const source of ["consumer_state", "dag_status"]) instruments.scrapeErrors.inc({ source }, 0);
  const registry = o.registry;
  return {
    telemetry: metricsTelemetry(instruments),
    registry,
    get contentType() {
      return registry.contentType;
    },
    metrics: () => registry.metrics(),
    observeWorker(worker) {
      const w = worker as Partial<ObservableWorker> | null;
      if (typeof w !== "object" || w === null || typeof w.health !== "function" || typeof w.consumers !== "function" || typeof w.broker !== "object") {
        throw new EbindError("invalid_argument", "prometheusMetrics.observeWorker: the argument must be a Worker");
      }
      return workers.observe(worker);
    },
    observeWorkflow(workflow) {
      if (typeof workflow !== "object" || workflow === null || typeof (workflow as Partial<ObservableWorkflow>).listDags !== "function") {
        throw new EbindError("invalid_argument", "prometheusMetrics.observeWorkflow: the argument must be a Workflow");
      }
      return workflows.observe(workflow);
    },
  };
}
