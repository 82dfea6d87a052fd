/**
 * `ebind/otel` with the API alone (no SDK, no context manager, no propagator registered): every
 * hook works, nothing is recorded, and no `trace_ctx` is added to a task — it keeps exactly what
 * its producer gave (issue 17). Also: the options' checks.
 */
import { describe, expect, it } from "vitest";
import { ensureStreams, TASK_STREAM } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { memoryBroker } from "../../../src/memory/index.js";
import { openTelemetry } from "../../../src/observe/otel/index.js";
import { decodeTask, defineHandler, Registry, TaskError } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { alwaysLeader, Workflow } from "../../../src/workflow/index.js";
import { useCleanups } from "../../support/backends.js";
import { recordingLogger } from "../../support/logger.js";
import { add, double } from "../../support/handlers/workflow.js";

const task = { id: "t1", name: "x", payload: "[]", enqueuedAt: new Date(0), attempt: 1 };
const GIVEN = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate: "congo=t61rcWkgMzE", baggage: "k=v" };

describe("otel with no SDK registered", () => {
  const cleanups = useCleanups();

  it("each hook is a no-op that adds no trace context; a producer's own context is kept as given", () => {
    const telemetry = openTelemetry();
    expect(telemetry.publish!({ kind: "enqueue", task, subject: "TASKS.x" })?.traceCtx).toBeUndefined();
    expect(telemetry.publish!({ kind: "enqueue", task: { ...task, traceCtx: GIVEN }, subject: "TASKS.x" })?.traceCtx).toEqual(GIVEN);
    expect(telemetry.publish!({ kind: "enqueue", task: { ...task, traceCtx: { traceparent: "not-w3c" } }, subject: "TASKS.x" })?.traceCtx).toBeUndefined();
    expect(telemetry.publish!({ kind: "requeue", task, subject: "TASKS.x", parent: undefined })?.traceCtx).toBeUndefined();
    expect(telemetry.publish!({ kind: "step", task, subject: "TASKS.x", parent: undefined })?.traceCtx).toBeUndefined();
    expect(telemetry.dagSubmit!({ dagId: "d", steps: 2, labels: [] })?.traceCtx).toBeUndefined();
    const scope = telemetry.attempt!({ task, subject: "TASKS.x", durable: "d", workerId: "w", deliveryCount: 1, queueWaitMs: 3 })!;
    expect(scope.run(() => 7)).toBe(7);
    scope.end({ result: "failed", durationMs: 1, error: new TaskError("k", "m") });
    telemetry.deadLetter!({ task, error: new TaskError("k", "m"), subject: "DLQ.x" });
    telemetry.deadLetter!({ task: undefined, error: new TaskError("decode", "m"), subject: "DLQ.x" });
  });

  it("end to end on the memory backend: tasks and DAGs run; no trace_ctx on the wire but the producer's", async () => {
    const broker = memoryBroker();
    cleanups.push(() => broker.close());
    await ensureStreams(broker);
    const telemetry = openTelemetry();
    const log = recordingLogger();
    const registry = new Registry();
    const seen: unknown[] = [];
    const echo = defineHandler("noop.echo", async (ctx, s: string) => {
      seen.push(ctx.task.traceCtx);
      return s;
    });
    for (const h of [echo, add, double]) registry.register(h);
    const workflow = await Workflow.create(broker, { logger: log, telemetry });
    cleanups.push(async () => workflow.close());
    const worker = await Worker.start(broker, registry, { logger: log, telemetry, stepHook: workflow.stepHook, middleware: [workflow.middleware] });
    cleanups.push(() => worker.close());
    const scheduler = await workflow.startScheduler({ elector: alwaysLeader });
    cleanups.push(() => scheduler.stop());
    const client = await Client.create(broker, { logger: log, telemetry });
    cleanups.push(() => client.close());

    expect(await (await client.enqueue(echo, "plain")).result({ timeoutMs: 5000 })).toBe("plain");
    expect(await (await client.enqueueWith(echo, { traceCtx: GIVEN }, "given")).result({ timeoutMs: 5000 })).toBe("given");
    expect(seen).toEqual([undefined, GIVEN]);

    const dag = workflow.dag();
    const a = dag.step("a", add, 1, 1);
    dag.step("b", double, a.ref());
    const meta = await workflow.submit(dag);
    expect(await workflow.awaitById(dag.id, "b", { timeoutMs: 5000 })).toBe(4);
    expect(meta.traceCtx).toBeUndefined();

    // Nothing waiting now; enqueue with the worker gone and read the task as stored.
    await worker.close();
    await client.enqueueAsync(echo, "stored");
    const state = await broker.streamState(TASK_STREAM);
    expect(decodeTask((await broker.getMessage(TASK_STREAM, state!.lastSeq))!.data).traceCtx).toBeUndefined();
    expect(log.lines.filter(([level]) => level === "warn" || level === "error")).toEqual([]);
  });

  it("bad options are refused with invalid_argument, naming them", () => {
    expect(() => openTelemetry({ tracerProvider: {} as never })).toThrow("otel.tracerProvider must be a TracerProvider");
    expect(() => openTelemetry({ tracerName: "" })).toThrow("otel.tracerName must be a non-empty string");
    expect(() => openTelemetry({ maxLinkedTasks: -1 })).toThrow("otel.maxLinkedTasks must be an integer ≥ 0, got -1");
    expect(() => openTelemetry({ maxLinkedTasks: 1.5 })).toThrow(expect.objectContaining({ code: "invalid_argument" }));
    expect(() => openTelemetry("x" as never)).toThrow(expect.objectContaining({ code: "invalid_argument", message: "otel options must be an object, got string" }));
    expect(() => openTelemetry(null as never)).toThrow("otel options must be an object, got null");
    expect(() => openTelemetry([] as never)).toThrow("otel options must be an object, got array");
  });
});
