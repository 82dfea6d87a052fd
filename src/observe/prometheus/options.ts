/**
 * The options of `prometheusMetrics()`, their defaults, and their resolution into a frozen object
 * (STYLE 6). Durations in ms as everywhere in ebind's API; the metrics themselves are in seconds, as
 * Prometheus has it.
 * @module
 */
import { Registry } from "prom-client";
import { EbindError } from "../../task/index.js";
import { shown } from "../shown.js";

/** Handler duration buckets, ms: 1 ms to 5 min. */
export const DEFAULT_DURATION_BUCKETS_MS: readonly number[] = Object.freeze([1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000]);
/** Queue wait buckets (enqueue to start, retry backoff included), ms: 1 ms to 1 h. */
export const DEFAULT_QUEUE_WAIT_BUCKETS_MS: readonly number[] = Object.freeze([1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 15_000, 60_000, 300_000, 900_000, 3_600_000]);
/** Scheduler event lag buckets, ms: 1 ms to 1 min. */
export const DEFAULT_SCHEDULER_LAG_BUCKETS_MS: readonly number[] = Object.freeze([1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 60_000]);
/** Longest a scrape waits for one read of the server (a consumer's state, the DAG listing), ms. */
export const DEFAULT_SCRAPE_TIMEOUT_MS = 2000;
/** Least time between two reads of every DAG's status, ms. */
export const DEFAULT_DAG_STATUS_REFRESH_MS = 15_000;
/** The prefix of every metric name. */
export const DEFAULT_PREFIX = "ebind_";

/** Options of `prometheusMetrics()`. Every field is optional. */
export interface PrometheusMetricsOptions {
  /**
   * The prom-client registry the metrics are registered in. Pass prom-client's global `register` to
   * serve them beside your own default metrics.
   * @default a new Registry of its own (never the global one)
   */
  readonly registry?: Registry | undefined;
  /**
   * Prepended to every metric name; letters, digits, `_` and `:`, not starting with a digit; may be
   * empty. Two `prometheusMetrics()` on one registry need different prefixes.
   * @default "ebind_"
   */
  readonly prefix?: string | undefined;
  /** Upper bounds of `<prefix>handler_duration_seconds`'s buckets, in ms, increasing. @default {@link DEFAULT_DURATION_BUCKETS_MS} */
  readonly durationBucketsMs?: readonly number[] | undefined;
  /** Upper bounds of `<prefix>queue_wait_seconds`'s buckets, in ms, increasing. @default {@link DEFAULT_QUEUE_WAIT_BUCKETS_MS} */
  readonly queueWaitBucketsMs?: readonly number[] | undefined;
  /** Upper bounds of `<prefix>scheduler_event_lag_seconds`'s buckets, in ms, increasing. @default {@link DEFAULT_SCHEDULER_LAG_BUCKETS_MS} */
  readonly schedulerLagBucketsMs?: readonly number[] | undefined;
  /**
   * How long a scrape waits for each read of the server it makes — a consumer's state, the DAG
   * listing — in ms, a positive number. A read that takes longer is counted in
   * `<prefix>scrape_errors_total` and its series are left out of that scrape; the scrape never throws.
   * @default 2000
   */
  readonly scrapeTimeoutMs?: number | undefined;
  /**
   * Least time between two readings of every DAG's status for `<prefix>dags{status}`, in ms (≥ 0).
   * Counting DAGs reads every DAG's meta, too much for each scrape on a large bucket: a scrape serves
   * the last counts while they are younger than this (their age runs from the start of their
   * reading), and otherwise starts a new reading, waiting for it up to `scrapeTimeoutMs`. When that
   * reading fails or takes longer, the scrape leaves `<prefix>dags` out — older counts are never
   * shown as current — and counts one `<prefix>scrape_errors_total{source="dag_status"}` per failed
   * reading (a reading still under way at the next scrape is waited on again, not counted again;
   * once done, its counts serve while young). 0 reads at every scrape.
   * @default 15000
   */
  readonly dagStatusRefreshMs?: number | undefined;
}

/** {@link PrometheusMetricsOptions} with every default applied; bucket bounds in seconds. */
export interface ResolvedPrometheusOptions {
  readonly registry: Registry;
  readonly prefix: string;
  readonly durationBuckets: readonly number[];
  readonly queueWaitBuckets: readonly number[];
  readonly schedulerLagBuckets: readonly number[];
  readonly scrapeTimeoutMs: number;
  readonly dagStatusRefreshMs: number;
}

/**
 * Applies the defaults and checks each option.
 * @throws EbindError `invalid_argument` naming the option: a registry without `registerMetric`, a
 *   prefix with other characters, buckets that are not positive, finite and increasing, a timeout
 *   that is not positive, a refresh interval below 0.
 */
export function resolvePrometheusOptions(options: PrometheusMetricsOptions = {}): ResolvedPrometheusOptions {
  if (typeof options !== "object" || options === null) throw new EbindError("invalid_argument", "prometheusMetrics: options must be an object");
  const registry = options.registry ?? new Registry();
  if (typeof (registry as Partial<Registry>).registerMetric !== "function") {
    throw new EbindError("invalid_argument", "prometheusMetrics: registry must be a prom-client Registry");
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== "string" || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new EbindError("invalid_argument", `prometheusMetrics: prefix must be letters, digits, '_' or ':' not starting with a digit, got ${shown(prefix)}`);
  }
  const scrapeTimeoutMs = options.scrapeTimeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS;
  if (typeof scrapeTimeoutMs !== "number" || !Number.isFinite(scrapeTimeoutMs) || scrapeTimeoutMs <= 0) {
    throw new EbindError("invalid_argument", `prometheusMetrics: scrapeTimeoutMs must be a positive number of ms, got ${shown(scrapeTimeoutMs)}`);
  }
  const dagStatusRefreshMs = options.dagStatusRefreshMs ?? DEFAULT_DAG_STATUS_REFRESH_MS;
  if (typeof dagStatusRefreshMs !== "number" || !Number.isFinite(dagStatusRefreshMs) || dagStatusRefreshMs < 0) {
    throw new EbindError("invalid_argument", `prometheusMetrics: dagStatusRefreshMs must be a number of ms ≥ 0, got ${shown(dagStatusRefreshMs)}`);
  }
  return Object.freeze({
    registry,
    prefix,
    durationBuckets: secondsBuckets(options.durationBucketsMs ?? DEFAULT_DURATION_BUCKETS_MS, "durationBucketsMs"),
    queueWaitBuckets: secondsBuckets(options.queueWaitBucketsMs ?? DEFAULT_QUEUE_WAIT_BUCKETS_MS, "queueWaitBucketsMs"),
    schedulerLagBuckets: secondsBuckets(options.schedulerLagBucketsMs ?? DEFAULT_SCHEDULER_LAG_BUCKETS_MS, "schedulerLagBucketsMs"),
    scrapeTimeoutMs,
    dagStatusRefreshMs,
  });
}

/** Bucket bounds in ms → in seconds, checked: a non-empty array of positive finite increasing numbers. */
function secondsBuckets(ms: readonly number[], name: string): readonly number[] {
  const ok = Array.isArray(ms) && ms.length > 0 && ms.every((b, i) => typeof b === "number" && Number.isFinite(b) && b > 0 && (i === 0 || b > ms[i - 1]!));
  if (!ok) throw new EbindError("invalid_argument", `prometheusMetrics: ${name} must be a non-empty array of positive, increasing numbers of ms, got ${shown(ms)}`);
  return Object.freeze(ms.map((b) => b / 1000));
}
