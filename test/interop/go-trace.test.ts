/**
 * Issue 17: W3C trace context across Go and TypeScript on one nats-server. A task a Go producer
 * enqueued with a `trace_ctx` traceparent is processed by our worker in that trace, under that
 * parent; a task our client enqueued arrives at the Go worker with our publish span's traceparent,
 * as Go's encoding/json decoded it. No propagator is registered: ebind's own W3C code carries it.
 */
import { SpanKind } from "@opentelemetry/api";
import { expect, it } from "vitest";
import { silentLogger } from "../../src/broker/index.js";
import { Client } from "../../src/client/index.js";
import { connectNats } from "../../src/nats/index.js";
import { openTelemetry } from "../../src/observe/otel/index.js";
import { taskRef } from "../../src/task/index.js";
import { describeGo, runGo, useGoProcesses } from "../support/go.js";
import { useNatsNode } from "../support/nats.js";
import { named, useTracing } from "../support/otel.js";
import { eventually, useQueueEnv } from "../support/queue.js";
import { float } from "../support/handlers/interop.js";

const GO_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const GO_SPAN = "00f067aa0ba902b7";
const Float = taskRef<(ctx: unknown, x: number) => Promise<number>>("interop.Float");

describeGo("interop: trace context between Go and TypeScript", () => {
  const node = useNatsNode();
  const tracing = useTracing();
  const env = useQueueEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });
  const startGo = useGoProcesses();

  it("a Go producer's traceparent: our attempt span is in its trace, a child of its span", async () => {
    const { registry, startWorker } = await env();
    registry.register(float);
    await startWorker({ telemetry: openTelemetry({ tracerProvider: tracing.provider }) });
    const traceCtx = JSON.stringify({ traceparent: `00-${GO_TRACE}-${GO_SPAN}-01`, tracestate: "go=1" });
    const lines = await runGo(["enqueue", "--url", node().url, "--name", "interop.Float", "--args", "[2]", "--trace-ctx", traceCtx]);
    expect(lines.find((l) => l.event === "enqueued")?.envelope).toMatchObject({ trace_ctx: { traceparent: `00-${GO_TRACE}-${GO_SPAN}-01`, tracestate: "go=1" } });
    expect(lines.find((l) => l.event === "response")).toMatchObject({ result: 3 });
    await eventually(() => named(tracing.spans(), "process TASKS.interop.Float").length === 1, "the attempt span");
    const [attempt] = named(tracing.spans(), "process TASKS.interop.Float");
    expect(attempt!.kind).toBe(SpanKind.CONSUMER);
    expect(attempt!.spanContext().traceId).toBe(GO_TRACE);
    expect(attempt!.parentSpanContext).toMatchObject({ traceId: GO_TRACE, spanId: GO_SPAN, isRemote: true });
    expect(attempt!.parentSpanContext?.traceState?.get("go")).toBe("1");
  });

  it("our enqueue's traceparent reaches the Go worker intact", async () => {
    const { broker } = await env();
    const go = await startGo(["worker", "--url", node().url, "--id", "go-trace"]);
    const client = await Client.create(broker, { logger: silentLogger, telemetry: openTelemetry({ tracerProvider: tracing.provider }) });
    try {
      const future = await client.enqueue(Float, 4);
      expect(await future.result({ timeoutMs: 10_000 })).toBe(6);
      const line = await go.waitFor((l) => l.event === "task" && l.id === future.id && l.outcome === "done", "the Go worker's line");
      const [publish] = named(tracing.spans(), "publish TASKS.interop.Float");
      const sc = publish!.spanContext();
      expect(line.trace_ctx).toEqual({ traceparent: `00-${sc.traceId}-${sc.spanId}-01` });
    } finally {
      await client.close();
    }
  });
});
