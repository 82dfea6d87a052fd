/**
 * Every metric of `ebind/prometheus`, created once per `prometheusMetrics()` on its registry. Names
 * follow Prometheus conventions: `_total` counters, base units (seconds) with the unit in the name.
 * Labels are bounded by the application: `task` (handler names), `kind` (error kinds), `publish`
 * (enqueue/step/requeue), `outcome`, `worker`, `stream`/`durable`, `status`; `task_id` appears only
 * on the abandoned-handler gauge, which holds a series per handler that ignored its abort (rare by
 * construction, and gone once the handler returns).
 * @module
 */
import { Counter, Histogram, type Registry } from "prom-client";
import type { ResolvedPrometheusOptions } from "./options.js";
import type { ScrapeReads } from "./sources.js";

/** The counters and histograms, fed by the telemetry hooks (telemetry.ts); the gauges are in gauges.ts. */
export interface Instruments {
  readonly enqueued: Counter<"task" | "publish">;
  readonly publishFailed: Counter<"task" | "publish">;
  readonly started: Counter<"task">;
  readonly succeeded: Counter<"task">;
  readonly failed: Counter<"task" | "kind">;
  readonly retried: Counter<"task" | "kind">;
  readonly handedBack: Counter<"task">;
  readonly deadLettered: Counter<"task" | "kind">;
  readonly handlerDuration: Histogram<"task" | "outcome">;
  readonly queueWait: Histogram<"task">;
  readonly dagsSubmitted: Counter<never>;
  readonly schedulerLag: Histogram<"kind">;
  readonly scrapeErrors: Counter<"source">;
}

/** Creates and registers the counters and histograms (`scrapeErrors` is left for the caller to register last). @throws prom-client's Error when a name is already registered (same prefix twice on one registry). */
export function createInstruments(o: ResolvedPrometheusOptions, scrape: ScrapeReads): Instruments {
  const p = o.prefix;
  const registers: Registry[] = [o.registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> => new Counter({ name: p + name, help, labelNames, registers });
  return {
    enqueued: counter("tasks_enqueued_total", "Tasks published and stored, by task name and why (publish: enqueue, step, requeue).", ["task", "publish"]),
    publishFailed: counter("tasks_publish_failed_total", "Task publishes the server refused or did not answer, by task name and why.", ["task", "publish"]),
    started: counter("tasks_started_total", "Attempts started: deliveries admitted to run their handler.", ["task"]),
    succeeded: counter("tasks_succeeded_total", "Attempts whose handler returned and whose outcome was stored.", ["task"]),
    failed: counter("tasks_failed_total", "Attempts that failed for good (no retry left, or not retryable), by error kind.", ["task", "kind"]),
    retried: counter("tasks_retried_total", "Attempts that failed and will be retried, by error kind.", ["task", "kind"]),
    handedBack: counter("tasks_handed_back_total", "Attempts handed back at shutdown before their outcome was recorded; they run again elsewhere.", ["task"]),
    deadLettered: counter("tasks_dead_lettered_total", "Tasks written to the dead-letter queue, by error kind (decode: an undecodable envelope).", ["task", "kind"]),
    handlerDuration: new Histogram({
      name: `${p}handler_duration_seconds`,
      help: "Time a handler ran (middleware included), by outcome: succeeded, retried, failed, handed-back.",
      labelNames: ["task", "outcome"],
      buckets: [...o.durationBuckets],
      registers,
    }),
    queueWait: new Histogram({
      name: `${p}queue_wait_seconds`,
      help: "Time from a task's enqueue to the start of an attempt (a retry's backoff included).",
      labelNames: ["task"],
      buckets: [...o.queueWaitBuckets],
      registers,
    }),
    dagsSubmitted: counter("dags_submitted_total", "DAGs submitted and stored.", []),
    schedulerLag: new Histogram({
      name: `${p}scheduler_event_lag_seconds`,
      help: "Time from a DAG event's publish to a scheduler taking it, by event kind.",
      labelNames: ["kind"],
      buckets: [...o.schedulerLagBuckets],
      registers,
    }),
    // Registered after the gauges (metrics.ts), so a scrape's own read errors show in that scrape.
    scrapeErrors: new Counter({
      name: `${p}scrape_errors_total`,
      help: "Reads a scrape made that failed or timed out, each read counted once (source: consumer_state, dag_status); their series were left out of that scrape.",
      labelNames: ["source"],
      registers: [],
      collect: () => scrape.settled(),
    }),
  };
}
