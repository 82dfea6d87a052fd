/**
 * Step hook, middleware and shutdown on a real nats-server: reference §7 items 37–41 and
 * DESIGN.md §4 (results finished during drain are published; long handlers are kept alive).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import type { TaskError} from "../../../src/task/index.js";
import { defineHandler, type Task } from "../../../src/task/index.js";
import { log, metrics, type Middleware, type StepHook } from "../../../src/worker/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually, expectEmpty, useQueueEnv } from "../../support/queue.js";
import { echo, nonRetryable, slow } from "../../support/handlers/common.js";
import { recordingLogger } from "../../support/logger.js";

class CountingHook implements StepHook {
  done = 0;
  failed = 0;
  failNextDone = 0;
  async onStepDone(_task: Task, _result: string | undefined): Promise<void> {
    if (this.failNextDone > 0) {
      this.failNextDone--;
      throw new Error("hook store unavailable");
    }
    this.done++;
  }
  async onStepFailed(_task: Task, _error: TaskError): Promise<void> {
    this.failed++;
  }
}

describeBackends("task queue: hook, middleware, shutdown", (backend) => {
  const env = useQueueEnv(backend);

  it("the step hook sees one done for a success and one failed for a terminal failure, none for retries (§7.37)", async () => {
    const { registry, client, startWorker } = await env();
    let calls = 0;
    const flaky = defineHandler("test.flakyHook", async () => {
      if (++calls < 3) throw new Error("transient");
      return "ok";
    });
    registry.register(echo);
    registry.register(flaky);
    registry.register(nonRetryable);
    const hook = new CountingHook();
    await startWorker({ stepHook: hook, backoffMs: [10] });
    await (await client.enqueue(echo, "a")).result({ timeoutMs: 5000 });
    await (await client.enqueue(flaky)).result({ timeoutMs: 5000 });
    expect(hook.done).toBe(2);
    expect(hook.failed).toBe(0);
    await (await client.enqueue(nonRetryable)).result({ timeoutMs: 5000 }).catch(() => undefined);
    expect(hook.failed).toBe(1);
    expect(hook.done).toBe(2);
  });

  it("a hook that fails once makes the task run again; the future still resolves and the hook succeeds once (§7.38)", async () => {
    const { registry, client, startWorker } = await env();
    let calls = 0;
    const counted = defineHandler("test.counted", async () => ++calls);
    registry.register(counted);
    const hook = new CountingHook();
    hook.failNextDone = 1;
    await startWorker({ stepHook: hook, backoffMs: [50] });
    expect(await (await client.enqueue(counted)).result({ timeoutMs: 5000 })).toBe(2);
    expect(calls).toBe(2);
    expect(hook.done).toBe(1);
  });

  it("closing with 10 queued tasks and concurrency 1 returns within the grace and starts no handler afterwards (§7.39)", async () => {
    const { registry, client, startWorker } = await env();
    const started: number[] = [];
    const unit = defineHandler("test.unit", async (_ctx, i: number) => {
      started.push(i);
      await sleep(200);
      return i;
    });
    registry.register(unit);
    const worker = await startWorker({ concurrency: 1, shutdownGraceMs: 8000 });
    const futures = await Promise.all(Array.from({ length: 10 }, (_, i) => client.enqueue(unit, i)));
    await eventually(() => started.length >= 1, "one handler started");
    const t0 = Date.now();
    await worker.close();
    expect(Date.now() - t0).toBeLessThan(8000);
    const count = started.length;
    expect(count).toBeLessThan(10);
    await sleep(500);
    expect(started.length).toBe(count);
    // The task that was running when close began finished during the drain: its result was still published.
    expect(await futures[started[0]!]!.result({ timeoutMs: 5000 })).toBe(started[0]);
  });

  it("results of handlers that finish during drain are published and acked (DESIGN §4)", async () => {
    const { broker, registry, client, startWorker } = await env();
    registry.register(slow);
    const worker = await startWorker({ concurrency: 4 });
    const futures = await Promise.all(Array.from({ length: 4 }, (_, i) => client.enqueue(slow, 400, `t${i}`)));
    await eventually(() => worker.active === 4, "four handlers running");
    await worker.close();
    const results = await Promise.all(futures.map((f) => f.result({ timeoutMs: 5000 })));
    expect(results.map((r) => r.tag)).toEqual(["t0", "t1", "t2", "t3"]);
    await expectEmpty(broker, "EBIND_TASKS");
  });

  it("middleware runs in order inside recover; metrics observe each dispatch once (§7.40)", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(echo);
    const order: string[] = [];
    const tag =
      (name: string): Middleware =>
      (next) =>
      async (ctx) => {
        order.push(`${name}:in`);
        const r = await next(ctx);
        order.push(`${name}:out`);
        return r;
      };
    const observed: Array<[string, number, boolean]> = [];
    await startWorker({
      middleware: [tag("outer"), tag("inner"), metrics({ observe: (name, attempt, ms, err) => observed.push([name, attempt, err === undefined && ms >= 0]) })],
    });
    await (await client.enqueue(echo, "m")).result({ timeoutMs: 5000 });
    expect(order).toEqual(["outer:in", "inner:in", "inner:out", "outer:out"]);
    expect(observed).toEqual([["test.echo", 1, true]]);
  });

  it("log middleware writes task.start then task.done / task.error with id, name, attempt, duration (§7.41)", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(echo);
    registry.register(nonRetryable);
    const logger = recordingLogger();
    await startWorker({ middleware: [log(logger)] });
    const future = await client.enqueue(echo, "l");
    await future.result({ timeoutMs: 5000 });
    await (await client.enqueue(nonRetryable)).result({ timeoutMs: 5000 }).catch(() => undefined);
    const lines = logger.lines.filter(([level]) => level === "info" || level === "error").map(([, m, f]) => [m, f] as const);
    expect(lines.map(([m]) => m)).toEqual(["task.start", "task.done", "task.start", "task.error"]);
    expect(lines[0]?.[1]).toEqual({ task_id: future.id, task_name: "test.echo", attempt: 1 });
    expect(typeof lines[1]?.[1]?.duration_ms).toBe("number");
    expect(lines[3]?.[1]?.error).toBe("validation: email is missing");
  });

  it("a handler running three times longer than the ack wait completes once and is not redelivered", async () => {
    const { registry, client, startWorker } = await env();
    let runs = 0;
    const long = defineHandler("test.long", async (ctx) => {
      runs++;
      await sleep(3000, undefined, { signal: ctx.signal });
      return ctx.attempt;
    });
    registry.register(long);
    await startWorker({ ackWaitMs: 1000, workerId: "w-long-a" });
    await startWorker({ ackWaitMs: 1000, workerId: "w-long-b" });
    const future = await client.enqueue(long);
    expect(await future.result({ timeoutMs: 10_000 })).toBe(1);
    await sleep(1500); // a redelivery would have shown up by now
    expect(runs).toBe(1);
  });
});
