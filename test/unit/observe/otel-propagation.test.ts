/**
 * How `ebind/otel` reads and writes `trace_ctx`: the W3C traceparent rules it applies itself when
 * no propagator is registered, and the application's propagator when one is.
 */
import { propagation, ROOT_CONTEXT, trace, TraceFlags, type Context, type TextMapPropagator } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { extractCarrier, injectCarrier } from "../../../src/observe/otel/propagation.js";
import { formatTraceparent, parseTraceparent } from "../../../src/observe/otel/index.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

describe("W3C traceparent (no propagator registered)", () => {
  it("parses a valid one as a remote span context, with its tracestate", () => {
    const sc = parseTraceparent(`00-${TRACE}-${SPAN}-01`, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    expect(sc).toMatchObject({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(sc?.traceState?.get("rojo")).toBe("00f067aa0ba902b7");
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.traceFlags).toBe(TraceFlags.NONE);
    // Unknown flag bits are dropped; a later version may append fields.
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-ff`)?.traceFlags).toBe(TraceFlags.SAMPLED);
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-future`)?.spanId).toBe(SPAN);
  });

  it("refuses what the spec refuses", () => {
    for (const bad of [
      "",
      "garbage",
      `ff-${TRACE}-${SPAN}-01`, // version ff
      `00-${TRACE}-${SPAN}-01-extra`, // version 00 with more fields
      `00-${"0".repeat(32)}-${SPAN}-01`, // zero trace id
      `00-${TRACE}-${"0".repeat(16)}-01`, // zero span id
      `00-${TRACE.toUpperCase()}-${SPAN}-01`, // uppercase
      `00-${TRACE.slice(1)}-${SPAN}-01`, // short trace id
      `00-${TRACE}-${SPAN}-1`, // short flags
    ]) {
      expect([bad, parseTraceparent(bad)]).toEqual([bad, undefined]);
    }
  });

  it("formats and extracts what it injects", () => {
    const sc = { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED };
    expect(formatTraceparent(sc)).toBe(`00-${TRACE}-${SPAN}-01`);
    const carrier = injectCarrier(trace.setSpanContext(ROOT_CONTEXT, sc));
    expect(carrier).toEqual({ traceparent: `00-${TRACE}-${SPAN}-01` });
    const back = trace.getSpanContext(extractCarrier(carrier, ROOT_CONTEXT));
    expect(back).toMatchObject({ ...sc, isRemote: true });
    // Nothing valid: nothing injected, the base context returned.
    expect(injectCarrier(ROOT_CONTEXT)).toBeUndefined();
    expect(extractCarrier({ traceparent: "nope" }, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
    expect(extractCarrier(undefined, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
  });
});

describe("with a propagator registered", () => {
  afterEach(() => propagation.disable());

  it("uses it for both directions", () => {
    const KEY = "x-test-trace";
    const custom: TextMapPropagator = {
      inject(ctx: Context, carrier: unknown, setter) {
        const sc = trace.getSpanContext(ctx);
        if (sc) setter.set(carrier, KEY, `${sc.traceId}:${sc.spanId}`);
      },
      extract(ctx: Context, carrier: unknown, getter) {
        const value = getter.get(carrier, KEY);
        if (typeof value !== "string") return ctx;
        const [traceId, spanId] = value.split(":");
        return trace.setSpanContext(ctx, { traceId: traceId!, spanId: spanId!, traceFlags: 1, isRemote: true });
      },
      fields: () => [KEY],
    };
    propagation.setGlobalPropagator(custom);
    const sc = { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED };
    expect(injectCarrier(trace.setSpanContext(ROOT_CONTEXT, sc))).toEqual({ [KEY]: `${TRACE}:${SPAN}` });
    expect(trace.getSpanContext(extractCarrier({ [KEY]: `${TRACE}:${SPAN}` }, ROOT_CONTEXT))?.spanId).toBe(SPAN);
    // A traceparent is not read by a propagator that does not know it.
    expect(extractCarrier({ traceparent: `00-${TRACE}-${SPAN}-01` }, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
  });
});
