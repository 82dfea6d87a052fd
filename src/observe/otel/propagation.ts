/**
 * Trace context in and out of a task's `trace_ctx` (reference §2.6.1: an object of strings).
 *
 * When the application registered a propagator (`propagation.setGlobalPropagator`, as the Node SDK
 * does), it is used as is. With none — the API's default is a no-op, which would drop every trace
 * at the queue — ebind reads and writes the W3C Trace Context headers itself
 * (https://www.w3.org/TR/trace-context/): `traceparent` = `<version>-<trace id>-<parent id>-<flags>`
 * and `tracestate`, which is what ebind for Go's OpenTelemetry propagator writes, so a trace goes
 * from a Go producer to a TypeScript worker and back even when the application set up only a tracer
 * provider.
 * @module
 */
import { context, createTraceState, ROOT_CONTEXT, isSpanContextValid, propagation, trace, type Context, type SpanContext } from "@opentelemetry/api";
import type { TraceCarrier } from "../../broker/index.js";

const TRACEPARENT = "traceparent";
const TRACESTATE = "tracestate";

/** version "-" trace-id "-" parent-id "-" trace-flags, then (versions above 00 only) more fields. */
const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Whether the application registered a propagator (the API's no-op one has no fields). */
function globalPropagator(): boolean {
  return propagation.fields().length > 0;
}

/**
 * The `traceparent` of a span context: version 00, its trace and span ids, its flags as two hex
 * digits. For a valid span context only.
 */
export function formatTraceparent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/**
 * The span context a `traceparent` names (remote), or undefined when it is not a valid W3C
 * traceparent: two lowercase hex digits of version other than `ff`; 32 and 16 lowercase hex digits
 * of trace and parent id, not all zero; two of flags; nothing after them for version 00 (a later
 * version may append fields, which are ignored).
 */
export function parseTraceparent(value: string, tracestate?: string): SpanContext | undefined {
  const m = TRACEPARENT_PATTERN.exec(value.trim());
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: parseInt(flags, 16) & 0x01, // only the sampled flag is defined
    isRemote: true,
    traceState: tracestate === undefined || tracestate.trim() === "" ? undefined : createTraceState(tracestate),
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * The trace context of `ctx`'s span as a `trace_ctx` map, or undefined when it has no valid span
 * (nothing is added to the task then).
 */
export function injectCarrier(ctx: Context): TraceCarrier | undefined {
  if (globalPropagator()) {
    const carrier: Record<string, string> = {};
    propagation.inject(ctx, carrier);
    return Object.keys(carrier).length > 0 ? carrier : undefined;
  }
  const spanContext = trace.getSpanContext(ctx);
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return undefined;
  const carrier: Record<string, string> = { [TRACEPARENT]: formatTraceparent(spanContext) };
  const state = spanContext.traceState?.serialize();
  if (state) carrier[TRACESTATE] = state;
  return carrier;
}

/**
 * `base` with the remote span context a `trace_ctx` map carries, or `base` itself when it carries
 * none that is valid. Keys are matched as the global propagator matches them; without one, the
 * exact lowercase names `traceparent` and `tracestate`.
 */
export function extractCarrier(carrier: TraceCarrier | undefined, base: Context = context.active()): Context {
  if (carrier === undefined) return base;
  if (globalPropagator()) return propagation.extract(base, carrier);
  const value = carrier[TRACEPARENT];
  if (typeof value !== "string") return base;
  const spanContext = parseTraceparent(value, carrier[TRACESTATE]);
  return spanContext === undefined ? base : trace.setSpanContext(base, spanContext);
}

/** The valid remote span context a `trace_ctx` map carries, or undefined. */
export function carriedSpanContext(carrier: TraceCarrier | undefined): SpanContext | undefined {
  if (carrier === undefined) return undefined;
  const spanContext = trace.getSpanContext(extractCarrier(carrier, ROOT_CONTEXT));
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}
