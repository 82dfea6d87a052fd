/**
 * The telemetry hooks of the task queue (issue 17): what the client, the worker and a DLQ requeue
 * tell a recording telemetry, with which fields and in which order, over both backends.
 */
import { expect, it } from "vitest";
import { silentLogger } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { listDeadLetters, requeueDeadLetter } from "../../../src/dlq/index.js";
import { defineHandler, TaskError } from "../../../src/task/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually, useQueueEnv } from "../../support/queue.js";
import { recordingTelemetry, type Recorded } from "../../support/telemetry.js";

/** The hook names of the calls, in order. */
function hooks(calls: readonly Recorded[]): string[] {
  return calls.map((c) => c.hook);
}

/** The calls of the worker's side (attempts, runs, ends, dead letters), in order. */
function workerSide(calls: readonly Recorded[]): Recorded[] {
  return calls.filter((c) => c.hook.startsWith("attempt") || c.hook === "deadLetter");
}

describeBackends("telemetry hooks: task queue", (backend) => {
  const env = useQueueEnv(backend);

  it("success: publish → end on the client; attempt → run → end(succeeded) on the worker, the handler inside run and the scope's trace context on the task", async () => {
    const { broker, registry, startWorker } = await env();
    const rec = recordingTelemetry();
    const seen: Array<{ inside: string | undefined; traceCtx: unknown }> = [];
    const greet = defineHandler("obs.greet", async (ctx, who: string) => {
      seen.push({ inside: rec.inside(), traceCtx: ctx.task.traceCtx });
      return `hi ${who}`;
    });
    registry.register(greet);
    const worker = await startWorker({ telemetry: rec.telemetry });
    const client = await Client.create(broker, { logger: silentLogger, telemetry: rec.telemetry });
    try {
      const future = await client.enqueueWith(greet, { traceCtx: { traceparent: "caller" } }, "ann");
      expect(await future.result({ timeoutMs: 10_000 })).toBe("hi ann");
      await eventually(() => rec.of("attempt.end").length === 1, "the attempt's end");
      const id = future.id;
      expect(rec.of("publish")).toEqual([
        { hook: "publish", kind: "enqueue", taskId: id, name: "obs.greet", subject: "TASKS.obs.greet", parent: undefined, taskTraceCtx: { traceparent: "caller" }, returned: { traceparent: "tp-1" } },
      ]);
      expect(rec.of("publish.end")).toEqual([{ hook: "publish.end", taskId: id, error: undefined }]);
      const [attempt] = rec.of("attempt");
      expect(attempt).toMatchObject({ taskId: id, attempt: 1, deliveryCount: 1, subject: "TASKS.obs.greet", durable: "ebind-worker", workerId: worker.id, traceCtx: { traceparent: "tp-1" } });
      expect(attempt!.queueWaitMs).toBeGreaterThanOrEqual(0);
      expect(hooks(workerSide(rec.calls))).toEqual(["attempt", "attempt.run", "attempt.end"]);
      const [end] = rec.of("attempt.end");
      expect(end!.outcome.result).toBe("succeeded");
      expect(end!.outcome.durationMs).toBeGreaterThanOrEqual(0);
      // The handler ran inside the attempt's run and got the trace context the publish scope gave.
      expect(seen).toEqual([{ inside: `${id}#1`, traceCtx: { traceparent: "tp-1" } }]);
      // The client's own order.
      expect(hooks(rec.calls.filter((c) => c.hook.startsWith("publish")))).toEqual(["publish", "publish.end"]);
    } finally {
      await client.close();
    }
  });

  it("retries: one attempt per delivery with the true attempt number; retried ends carry the error and the delay", async () => {
    const { broker, registry, startWorker } = await env();
    const rec = recordingTelemetry();
    let calls = 0;
    const flaky = defineHandler("obs.flaky", async () => {
      calls++;
      if (calls < 3) throw new TaskError("flaky", `failure ${calls}`, { retryable: true });
      return "third time";
    });
    registry.register(flaky);
    await startWorker({ telemetry: rec.telemetry });
    const client = await Client.create(broker, { logger: silentLogger, telemetry: rec.telemetry });
    try {
      const future = await client.enqueueWith(flaky, { retryPolicy: { initialIntervalMs: 20, maximumAttempts: 5 } });
      expect(await future.result({ timeoutMs: 10_000 })).toBe("third time");
      await eventually(() => rec.of("attempt.end").length === 3, "three attempt ends");
      expect(rec.of("attempt").map((a) => [a.attempt, a.deliveryCount, a.traceCtx?.traceparent])).toEqual([
        [1, 1, "tp-1"],
        [2, 2, "tp-1"],
        [3, 3, "tp-1"],
      ]);
      expect(hooks(workerSide(rec.calls))).toEqual(["attempt", "attempt.run", "attempt.end", "attempt", "attempt.run", "attempt.end", "attempt", "attempt.run", "attempt.end"]);
      const outcomes = rec.of("attempt.end").map((e) => e.outcome);
      expect(outcomes.map((o) => o.result)).toEqual(["retried", "retried", "succeeded"]);
      for (const o of outcomes.slice(0, 2)) {
        if (o.result !== "retried") throw new Error("expected retried");
        expect(o.error.kind).toBe("flaky");
        expect(o.delayMs).toBeGreaterThanOrEqual(20);
      }
      expect(rec.of("deadLetter")).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("failure to the DLQ, then a requeue: the dead letter inside the last attempt's run; the requeue's publish has the dead task's context as parent and its own on the republished task", async () => {
    const { broker, registry, startWorker } = await env();
    const rec = recordingTelemetry();
    let fail = true;
    const doomed = defineHandler("obs.doomed", async (_ctx, n: number) => {
      if (fail) throw new TaskError("broken", `cannot ${n}`, { retryable: true });
      return n;
    });
    registry.register(doomed);
    await startWorker({ telemetry: rec.telemetry });
    const client = await Client.create(broker, { logger: silentLogger, telemetry: rec.telemetry });
    try {
      const future = await client.enqueueWith(doomed, { retryPolicy: { initialIntervalMs: 10, maximumAttempts: 2 } }, 7);
      await expect(future.result({ timeoutMs: 10_000 })).rejects.toThrow("cannot 7");
      await eventually(() => rec.of("attempt.end").length === 2, "two attempt ends");
      const id = future.id;
      expect(hooks(workerSide(rec.calls))).toEqual(["attempt", "attempt.run", "attempt.end", "attempt", "attempt.run", "attempt.run", "deadLetter", "attempt.end"]);
      expect(rec.of("deadLetter")).toEqual([{ hook: "deadLetter", taskId: id, attempt: 2, errorKind: "broken", subject: "DLQ.obs.doomed", insideAttempt: `${id}#2` }]);
      const last = rec.of("attempt.end")[1]!.outcome;
      expect(last.result).toBe("failed");
      if (last.result === "failed") expect(last.error.kind).toBe("broken");

      fail = false;
      const [letter] = await listDeadLetters(broker);
      const before = rec.calls.length;
      await requeueDeadLetter(broker, letter!.seq, { telemetry: rec.telemetry, logger: silentLogger });
      await eventually(() => rec.of("attempt.end").length === 3, "the requeued task's attempt");
      const after = rec.calls.slice(before);
      const requeue = after.find((c) => c.hook === "publish");
      expect(requeue).toMatchObject({ kind: "requeue", taskId: id, subject: "TASKS.obs.doomed", parent: { traceparent: "tp-1" }, taskTraceCtx: { traceparent: "tp-1" }, returned: { traceparent: "tp-2" } });
      expect(hooks(after.filter((c) => c.hook.startsWith("publish")))).toEqual(["publish", "publish.end"]);
      const third = rec.of("attempt")[2]!;
      expect(third).toMatchObject({ taskId: id, attempt: 1, deliveryCount: 1, traceCtx: { traceparent: "tp-2" } });
      expect(rec.of("attempt.end")[2]!.outcome.result).toBe("succeeded");
    } finally {
      await client.close();
    }
  });

  it("an undecodable envelope is reported as a dead letter of kind decode with no task and no attempt", async () => {
    const { broker, registry, startWorker } = await env();
    const rec = recordingTelemetry();
    registry.register(defineHandler("obs.garbage", async () => "never"));
    await startWorker({ telemetry: rec.telemetry });
    await broker.publish("TASKS.obs.garbage", new TextEncoder().encode("not json at all"), { msgId: "garbage-obs" });
    await eventually(() => rec.of("deadLetter").length === 1, "the decode dead letter");
    expect(rec.of("deadLetter")).toEqual([{ hook: "deadLetter", taskId: undefined, attempt: undefined, errorKind: "decode", subject: "DLQ.obs.garbage", insideAttempt: undefined }]);
    expect(rec.of("attempt")).toEqual([]);
  });

  it("a publish the server refuses ends its scope with the error", async () => {
    const { broker } = await env();
    const rec = recordingTelemetry();
    const client = await Client.create(broker, { logger: silentLogger, telemetry: rec.telemetry });
    try {
      const big = defineHandler("obs.big", async (_ctx, s: string) => s.length);
      await expect(client.enqueue(big, "x".repeat(broker.maxPayloadBytes))).rejects.toMatchObject({ code: "payload_too_large" });
      expect(hooks(rec.calls)).toEqual(["publish", "publish.end"]);
      expect(rec.of("publish.end")[0]!.error).toMatch(/exceeds the largest task this server carries/);
    } finally {
      await client.close();
    }
  });
});
