/**
 * Tracing and metrics on, as a user would run them, for the observability-cost scenario (11):
 * the OpenTelemetry SDK (BasicTracerProvider, a BatchSpanProcessor into an InMemorySpanExporter,
 * the AsyncLocalStorage context manager) behind `ebind/otel`, and `ebind/prometheus`, combined into
 * one telemetry. A "scraper" collects the metrics every second (Prometheus scrapes every 15–60 s:
 * this overstates the scrape cost) and empties the exporter, so memory stays flat.
 */
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
import { combineTelemetry, type Telemetry } from "../../src/index.js";
import { openTelemetry } from "../../src/observe/otel/index.js";
import { prometheusMetrics } from "../../src/observe/prometheus/index.js";

/**
 * What is on: `both` (tracing of every task and metrics: the target's configuration), `metrics`,
 * `tracing`, or `sampled` (metrics, and tracing with a parent-based 10 % trace-id ratio sampler).
 */
export type ObserveMode = "both" | "metrics" | "tracing" | "sampled";

/** The sampled mode's share of traces. */
export const SAMPLED_RATIO = 0.1;

/** Observers on in one process. */
export interface Observability {
  readonly telemetry: Telemetry;
  /** Spans exported so far, and metric scrapes made. */
  counts(): { spans: number; scrapes: number };
  /** Observes a worker's gauges (when metrics are on). */
  observeWorker(worker: Parameters<ReturnType<typeof prometheusMetrics>["observeWorker"]>[0]): void;
  /** Stops the scraper, flushes and shuts the tracer provider down, unregisters the context manager. */
  close(): Promise<void>;
}

/** Sets up `mode` in this process (registers the context manager globally when tracing). */
export function observability(mode: ObserveMode): Observability {
  const tracing = mode !== "metrics";
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter)],
    ...(mode === "sampled" ? { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(SAMPLED_RATIO) }) } : {}),
  });
  if (tracing) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const metrics = mode === "tracing" ? undefined : prometheusMetrics();
  const telemetry = combineTelemetry(tracing ? openTelemetry({ tracerProvider: provider }) : undefined, metrics?.telemetry)!;
  let spans = 0;
  let scrapes = 0;
  const scraper = setInterval(() => {
    void metrics?.metrics().then(() => scrapes++);
    spans += exporter.getFinishedSpans().length;
    exporter.reset();
  }, 1000);
  scraper.unref();
  return {
    telemetry,
    counts: () => ({ spans: spans + exporter.getFinishedSpans().length, scrapes }),
    observeWorker: (worker) => void metrics?.observeWorker(worker),
    async close() {
      clearInterval(scraper);
      await provider.forceFlush();
      spans += exporter.getFinishedSpans().length;
      exporter.reset();
      await provider.shutdown();
      if (tracing) context.disable();
    },
  };
}
