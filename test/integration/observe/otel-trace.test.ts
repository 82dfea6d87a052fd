/**
 * `ebind/otel` with the SDK's in-memory exporter (issue 17): one task's whole story — enqueue, three
 * failed attempts, its dead letter, a requeue and the success after it — is one trace with the
 * right parents, links and attributes; a user's span in a handler is a child of the attempt. Over
 * both backends.
 */
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { expect, it } from "vitest";
import { silentLogger } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { listDeadLetters, requeueDeadLetter } from "../../../src/dlq/index.js";
import { openTelemetry } from "../../../src/observe/otel/index.js";
import { defineHandler, TaskError } from "../../../src/task/index.js";
import { describeBackends } from "../../support/backends.js";
import { idOf, named, useTracing } from "../../support/otel.js";
import { eventually, useQueueEnv } from "../../support/queue.js";

describeBackends("otel: one trace per task", (backend) => {
  const tracing = useTracing();
  const env = useQueueEnv(backend);

  it("enqueue → three failed attempts → DLQ → requeue → success: one trace; attempts under the publish, the DLQ under the 3rd attempt, the requeue under the publish, the success under the requeue", async () => {
    const { broker, registry, startWorker } = await env();
    const telemetry = openTelemetry({ tracerProvider: tracing.provider });
    let failing = true;
    const flaky = defineHandler("otel.flaky", async (_ctx, n: number) => {
      if (failing) throw new TaskError("flaky", `not now (${n})`, { retryable: true });
      return n * 2;
    });
    registry.register(flaky);
    const worker = await startWorker({ telemetry });
    const client = await Client.create(broker, { logger: silentLogger, telemetry });
    try {
      const future = await client.enqueueWith(flaky, { retryPolicy: { initialIntervalMs: 10, maximumAttempts: 3 } }, 21);
      await expect(future.result({ timeoutMs: 10_000 })).rejects.toThrow("not now (21)");
      await eventually(() => named(tracing.spans(), "publish DLQ.otel.flaky").length === 1 && named(tracing.spans(), "process TASKS.otel.flaky").length === 3, "3 attempt spans and the DLQ span");
      failing = false;
      const [letter] = await listDeadLetters(broker);
      await requeueDeadLetter(broker, letter!.seq, { telemetry });
      await eventually(() => named(tracing.spans(), "process TASKS.otel.flaky").length === 4, "the requeued attempt's span");

      const spans = tracing.spans();
      const [publish, ...others] = named(spans, "publish TASKS.otel.flaky");
      expect(others).toEqual([]);
      const attempts = named(spans, "process TASKS.otel.flaky").sort(compareStart);
      const [dlq] = named(spans, "publish DLQ.otel.flaky");
      const [requeue] = named(spans, "requeue TASKS.otel.flaky");
      expect(spans).toHaveLength(7);

      // One trace.
      const traceId = publish!.spanContext().traceId;
      for (const s of spans) expect(s.spanContext().traceId).toBe(traceId);

      // The enqueue.
      expect(publish!.kind).toBe(SpanKind.PRODUCER);
      expect(publish!.parentSpanContext).toBeUndefined();
      expect(publish!.attributes).toMatchObject({
        "messaging.system": "nats",
        "messaging.destination.name": "TASKS.otel.flaky",
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.message.id": future.id,
        "ebind.task.name": "otel.flaky",
        "ebind.publish.kind": "enqueue",
      });

      // Three failed attempts, each a child of the publish; the 2nd links the 1st, the 3rd the 1st and the 2nd.
      const [a1, a2, a3, a4] = attempts;
      for (const [i, a] of [a1, a2, a3].entries()) {
        expect(a!.kind).toBe(SpanKind.CONSUMER);
        expect(idOf(a!.parentSpanContext)).toBe(idOf(publish!.spanContext()));
        expect(a!.attributes).toMatchObject({
          "messaging.system": "nats",
          "messaging.destination.name": "TASKS.otel.flaky",
          "messaging.operation.type": "process",
          "messaging.operation.name": "process",
          "messaging.message.id": future.id,
          "messaging.consumer.group.name": "ebind-worker",
          "messaging.client.id": worker.id,
          "ebind.task.attempt": i + 1,
          "ebind.task.delivery_count": i + 1,
          "ebind.task.outcome": i < 2 ? "retried" : "failed",
          "error.type": "flaky",
        });
        expect(a!.status).toEqual({ code: SpanStatusCode.ERROR, message: "not now (21)" });
      }
      expect(a1!.links).toEqual([]);
      expect(a2!.links.map((l) => [idOf(l.context), l.attributes?.["ebind.link.kind"]])).toEqual([[idOf(a1!.spanContext()), "first_attempt"]]);
      expect(a3!.links.map((l) => [idOf(l.context), l.attributes?.["ebind.link.kind"]])).toEqual([
        [idOf(a1!.spanContext()), "first_attempt"],
        [idOf(a2!.spanContext()), "previous_attempt"],
      ]);

      // The dead letter, under the attempt that caused it.
      expect(dlq!.kind).toBe(SpanKind.PRODUCER);
      expect(idOf(dlq!.parentSpanContext)).toBe(idOf(a3!.spanContext()));
      expect(dlq!.attributes).toMatchObject({ "messaging.destination.name": "DLQ.otel.flaky", "error.type": "flaky", "ebind.task.attempt": 3, "messaging.message.id": future.id });
      expect(dlq!.status.code).toBe(SpanStatusCode.ERROR);

      // The requeue: no active context here, so a child of the dead task's context (the publish), linked to it.
      expect(requeue!.kind).toBe(SpanKind.PRODUCER);
      expect(idOf(requeue!.parentSpanContext)).toBe(idOf(publish!.spanContext()));
      expect(requeue!.links.map((l) => [idOf(l.context), l.attributes?.["ebind.link.kind"]])).toEqual([[idOf(publish!.spanContext()), "requeued_task"]]);
      expect(requeue!.attributes).toMatchObject({ "messaging.operation.name": "requeue", "ebind.publish.kind": "requeue", "messaging.message.id": future.id });

      // The success after the requeue: attempt 1 again, under the requeue.
      expect(idOf(a4!.parentSpanContext)).toBe(idOf(requeue!.spanContext()));
      expect(a4!.attributes).toMatchObject({ "ebind.task.attempt": 1, "ebind.task.outcome": "succeeded" });
      expect(a4!.attributes["error.type"]).toBeUndefined();
      expect(a4!.status.code).toBe(SpanStatusCode.UNSET);
      expect(a4!.links).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("a span a handler starts is a child of its attempt's span (middleware runs inside it too)", async () => {
    const { broker, registry, startWorker } = await env();
    const telemetry = openTelemetry({ tracerProvider: tracing.provider });
    const user = tracing.provider.getTracer("user-code");
    const inMiddleware: Array<string | undefined> = [];
    const work = defineHandler("otel.work", async (_ctx, x: number) => {
      const span = user.startSpan("user work");
      await new Promise((r) => setTimeout(r, 5));
      span.end();
      return x;
    });
    registry.register(work);
    await startWorker({
      telemetry,
      middleware: [
        (next) => async (ctx) => {
          inMiddleware.push(trace.getActiveSpan()?.spanContext().spanId);
          return next(ctx);
        },
      ],
    });
    const client = await Client.create(broker, { logger: silentLogger, telemetry });
    try {
      // The producer's own span is the enqueue's parent.
      const root = user.startSpan("request");
      const future = await context.with(trace.setSpan(context.active(), root), () => client.enqueue(work, 5));
      root.end();
      expect(await future.result({ timeoutMs: 10_000 })).toBe(5);
      await eventually(() => named(tracing.spans(), "process TASKS.otel.work").length === 1, "the attempt span");
      const [attempt] = named(tracing.spans(), "process TASKS.otel.work");
      const [mine] = named(tracing.spans(), "user work");
      expect(idOf(mine!.parentSpanContext)).toBe(idOf(attempt!.spanContext()));
      const [publish] = named(tracing.spans(), "publish TASKS.otel.work");
      expect(idOf(publish!.parentSpanContext)).toBe(idOf(root.spanContext()));
      expect(idOf(attempt!.parentSpanContext)).toBe(idOf(publish!.spanContext()));
      expect(inMiddleware).toEqual([attempt!.spanContext().spanId]);
    } finally {
      await client.close();
    }
  });
});

function compareStart(a: ReadableSpan, b: ReadableSpan): number {
  return a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1];
}
