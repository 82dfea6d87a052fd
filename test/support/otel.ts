/**
 * An OpenTelemetry SDK for the tracing tests: a BasicTracerProvider exporting to an in-memory
 * exporter through a SimpleSpanProcessor, and the AsyncLocalStorage context manager registered for
 * the file. Nothing else is registered globally: no tracer provider (tests pass theirs to
 * `openTelemetry`) and no propagator, so ebind's own W3C trace-context code is what carries traces.
 * @module
 */
import { context, type SpanContext } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll } from "vitest";

/** The SDK of one test file. */
export interface Tracing {
  readonly provider: BasicTracerProvider;
  readonly exporter: InMemorySpanExporter;
  /** The spans ended so far (since the last test). */
  spans(): ReadableSpan[];
}

/** Registers the context manager for the file and empties the exporter after each test. */
export function useTracing(): Tracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
  });
  afterEach(() => exporter.reset());
  afterAll(async () => {
    context.disable();
    await provider.shutdown();
  });
  return { provider, exporter, spans: () => exporter.getFinishedSpans() };
}

/** `<trace id>/<span id>` of a span context, for comparisons. */
export function idOf(spanContext: SpanContext | undefined): string | undefined {
  return spanContext === undefined ? undefined : `${spanContext.traceId}/${spanContext.spanId}`;
}

/** The spans with this name, in the order they ended. */
export function named(spans: readonly ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}
