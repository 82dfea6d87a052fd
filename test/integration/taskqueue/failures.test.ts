/**
 * Failures, retries and dead letters on a real nats-server: reference §7 items 16–23, 34, 35 and
 * DESIGN.md §4 (max deliver below the policy, deadlines while running).
 */
import { expect, it } from "vitest";
import { DLQ_STREAM } from "../../../src/broker/index.js";
import { listDeadLetters } from "../../../src/dlq/index.js";
import { defineHandler, ErrKind, TaskError } from "../../../src/task/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually, expectEmpty, useQueueEnv } from "../../support/queue.js";
import { nonRetryable } from "../../support/handlers/common.js";

async function failure(p: Promise<unknown>): Promise<TaskError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TaskError);
  return err as TaskError;
}

describeBackends("task queue: failures, retries, dead letters", (backend) => {
  const env = useQueueEnv(backend);

  it("a handler that throws a non-Error fails with kind panic and is dead-lettered (§7.16)", async () => {
    const { broker, registry, client, startWorker } = await env();
    const boom = defineHandler("test.boom", async () => {
      throw "kaboom"; // eslint-disable-line @typescript-eslint/only-throw-error -- the case under test
    });
    registry.register(boom);
    await startWorker();
    const err = await failure((await client.enqueue(boom)).result({ timeoutMs: 5000 }));
    expect(err.kind).toBe(ErrKind.Panic);
    expect(err.detail).toBe("kaboom");
    expect(err.retryable).toBe(false);
    await eventually(async () => (await listDeadLetters(broker)).length === 1, "one DLQ entry");
  });

  it("a handler failing twice then succeeding resolves after 3 attempts (§7.17)", async () => {
    const { registry, client, startWorker } = await env();
    let calls = 0;
    const flaky = defineHandler("test.flaky", async (ctx) => {
      calls++;
      if (ctx.attempt < 3) throw new Error("transient");
      return `ok on attempt ${ctx.attempt}`;
    });
    registry.register(flaky);
    await startWorker({ maxDeliver: 5, backoffMs: [100] });
    expect(await (await client.enqueue(flaky)).result({ timeoutMs: 10_000 })).toBe("ok on attempt 3");
    expect(calls).toBe(3);
  });

  it("a non-retryable TaskError fails the future at once with its kind (§7.18)", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(nonRetryable);
    await startWorker({ maxDeliver: 5, backoffMs: [100] });
    const err = await failure((await client.enqueue(nonRetryable)).result({ timeoutMs: 5000 }));
    expect(err.toData()).toEqual({ kind: "validation", message: "email is missing", retryable: false });
    expect((await (await client.enqueue(nonRetryable)).outcome()).attempts).toBe(1);
  });

  it("a task policy of 2 attempts beats a worker max deliver of 10 (§7.19)", async () => {
    const { registry, client, startWorker } = await env();
    let calls = 0;
    const fails = defineHandler("test.fails19", async () => {
      calls++;
      throw new Error("always");
    });
    registry.register(fails);
    await startWorker({ maxDeliver: 10, backoffMs: [10] });
    const future = await client.enqueueWith(fails, { retryPolicy: { maximumAttempts: 2, initialIntervalMs: 10 } });
    const err = await failure(future.result({ timeoutMs: 10_000 }));
    expect(err.kind).toBe(ErrKind.Handler);
    expect(calls).toBe(2);
  });

  it("max deliver unlimited + a task policy of 3: exactly 3 runs, then the DLQ, and one response only (§7.20, §7.34, §7.35)", async () => {
    const { broker, registry, client, startWorker } = await env();
    let calls = 0;
    const fails = defineHandler("test.fails20", async (_ctx, n: number) => {
      calls++;
      throw new Error(`forced fail ${n}`);
    });
    registry.register(fails);
    const worker = await startWorker({ maxDeliver: -1 });
    const future = await client.enqueueWith(fails, { retryPolicy: { maximumAttempts: 3, initialIntervalMs: 20 } }, 7);
    const response = await future.outcome({ timeoutMs: 10_000 });
    expect(calls).toBe(3);
    expect(response.attempts).toBe(3);
    expect(response.error).toEqual({ kind: "handler", message: "forced fail 7", retryable: true });
    // Exactly one response was published for three attempts.
    expect((await broker.streamState("EBIND_RESP"))?.messages).toBe(1);
    const [letter] = await listDeadLetters(broker);
    expect(letter?.subject).toBe("DLQ.test.fails20");
    const entry = letter!.entry!;
    expect(entry.task).toMatchObject({ id: future.id, name: "test.fails20", payload: "[7]", attempt: 3, workerId: worker.id });
    expect(entry.finalAttempt).toBe(3);
    expect(entry.error).toEqual({ kind: "handler", message: "forced fail 7", retryable: true });
    expect(Math.abs(entry.deadLetteredAt.getTime() - Date.now())).toBeLessThan(10_000);
  });

  it("no task policy, a worker default policy of 4 attempts: exactly 4 runs (§7.21)", async () => {
    const { registry, client, startWorker } = await env();
    let calls = 0;
    const fails = defineHandler("test.fails21", async () => {
      calls++;
      throw new Error("always");
    });
    registry.register(fails);
    await startWorker({ defaultRetryPolicy: { maximumAttempts: 4, initialIntervalMs: 10 } });
    await failure((await client.enqueue(fails)).result({ timeoutMs: 10_000 }));
    expect(calls).toBe(4);
  });

  it("no policies, default options: redelivery waits follow the backoff list (first gap ≈ 1 s) (§7.22)", async () => {
    const { registry, client, startWorker } = await env();
    const times: number[] = [];
    const fails = defineHandler("test.fails22", async (ctx) => {
      times.push(Date.now());
      if (ctx.attempt < 2) throw new Error("once");
      return "second";
    });
    registry.register(fails);
    await startWorker();
    expect(await (await client.enqueue(fails)).result({ timeoutMs: 10_000 })).toBe("second");
    const gap = times[1]! - times[0]!;
    expect(gap).toBeGreaterThanOrEqual(950);
  });

  it("a deadline already past fails with kind deadline without running, and is dead-lettered (§7.23)", async () => {
    const { broker, registry, client, startWorker } = await env();
    let calls = 0;
    const never = defineHandler("test.never", async () => {
      calls++;
    });
    registry.register(never);
    await startWorker();
    const err = await failure((await client.enqueueWith(never, { deadline: new Date(Date.now() - 1000) })).result({ timeoutMs: 5000 }));
    expect(err.toData()).toEqual({ kind: "deadline", message: "deadline exceeded before dispatch", retryable: false });
    expect(calls).toBe(0);
    await eventually(async () => (await listDeadLetters(broker))[0]?.entry?.error.kind === "deadline", "deadline DLQ entry");
  });

  it("a deadline passing while the handler runs aborts its signal and fails with kind deadline", async () => {
    const { registry, client, startWorker } = await env();
    let aborted = false;
    const stuck = defineHandler("test.stuck", async (ctx) => {
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      aborted = true;
      throw new Error("gave up"); // a handler's own error after the abort is still a deadline failure
    });
    registry.register(stuck);
    await startWorker();
    const err = await failure((await client.enqueueWith(stuck, { timeoutMs: 300 })).result({ timeoutMs: 5000 }));
    expect(err.kind).toBe(ErrKind.Deadline);
    expect(err.retryable).toBe(false);
    expect(aborted).toBe(true);
  });

  it("a consumer max deliver below the policy never makes a task vanish (DESIGN §4)", async () => {
    const { broker, registry, client, startWorker } = await env();
    let calls = 0;
    const fails = defineHandler("test.failsCap", async () => {
      calls++;
      throw new Error("still failing");
    });
    registry.register(fails);
    await startWorker({ maxDeliver: 2 });
    const future = await client.enqueueWith(fails, { retryPolicy: { maximumAttempts: 10, initialIntervalMs: 10 } });
    const err = await failure(future.result({ timeoutMs: 10_000 }));
    expect(err.detail).toBe("still failing");
    expect(calls).toBe(2);
    await eventually(async () => (await listDeadLetters(broker)).some((l) => l.entry?.task.id === future.id), "DLQ entry for the capped task");
    await expectEmpty(broker, "EBIND_TASKS");
  });

  it("the DLQ stream holds nothing for successful tasks", async () => {
    const { broker } = await env();
    expect((await broker.streamState(DLQ_STREAM))?.messages).toBe(0);
  });
});
