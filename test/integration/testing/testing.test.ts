/**
 * `ebind/testing`: the README's example (a handler that fails twice, then succeeds) on the manual
 * clock without sleeping, the DLQ helper, fire-and-forget outcomes, and the same on a real node.
 */
import { expect, it } from "vitest";
import type { Client } from "../../../src/client/index.js";
import { createTestEnv } from "../../../src/testing/index.js";
import { defineHandler, TaskError } from "../../../src/task/index.js";
import { describeNats } from "../../support/nats.js";

let calls = 0;
const flaky = defineHandler("billing.charge", async (ctx, cents: number) => {
  calls++;
  if (ctx.attempt < 3) throw new Error("card processor timed out");
  return { charged: cents };
});
const reject = defineHandler("billing.reject", async () => {
  throw new TaskError("card_declined", "insufficient funds", { retryable: false });
});

it("a handler that fails twice then succeeds, on the manual clock: retry delays pass without sleeping", async () => {
  calls = 0;
  await using env = await createTestEnv({ handlers: [flaky] });
  const started = Date.now();
  const clockStart = env.clock!.now();
  const outcome = await env.outcome(await env.client.enqueue(flaky, 1250));
  expect(outcome).toMatchObject({ ok: true, result: { charged: 1250 }, attempts: 3 });
  expect(calls).toBe(3);
  // Default backoff: 1 s then 5 s of (manual) time passed; far less real time did.
  expect(env.clock!.now() - clockStart).toBeGreaterThanOrEqual(6000);
  expect(Date.now() - started).toBeLessThan(5000);
  expect(await env.deadLetters()).toEqual([]);
});

it("a terminal failure is an outcome and a DLQ entry; fire-and-forget tasks have outcomes too", async () => {
  await using env = await createTestEnv({ handlers: [reject] });
  const id = await env.client.enqueueAsync(reject);
  const outcome = await env.outcome(id);
  expect(outcome.ok).toBe(false);
  if (!outcome.ok) expect(outcome.error.toData()).toEqual({ kind: "card_declined", message: "insufficient funds", retryable: false });
  const [entry] = await env.deadLetters();
  expect(entry).toMatchObject({ task: { id, name: "billing.reject" }, error: { kind: "card_declined" }, finalAttempt: 1 });
});

it("outcome gives up with a clear error when nothing happens", async () => {
  await using env = await createTestEnv();
  await expect(env.outcome("no-such-task", { timeoutMs: 200 })).rejects.toThrow("testing: no outcome for task no-such-task within 200 ms");
});

it("advance moves the manual clock", async () => {
  await using env = await createTestEnv();
  const before = env.clock!.now();
  await env.advance(60_000);
  expect(env.clock!.now() - before).toBe(60_000);
});

describeNats("ebind/testing on a real node", () => {
  it("the same example passes on an embedded nats-server (real time)", async () => {
    calls = 0;
    await using env = await createTestEnv({ backend: "nats", handlers: [flaky], worker: { backoffMs: [50] } });
    expect(env.node?.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    const outcome = await env.outcome(await env.client.enqueue(flaky, 99));
    expect(outcome).toMatchObject({ ok: true, result: { charged: 99 }, attempts: 3 });
  });
});

// What a new user broke, pinned (manual clock).

it("a parent awaiting a child that retries does not hang: time moves while the parent waits", async () => {
  const box: { client?: Client } = {};
  const child = defineHandler("n.child", async (ctx, n: number) => {
    if (ctx.attempt < 2) throw new Error("transient");
    return n * 2;
  });
  const parent = defineHandler("n.parent", async (_ctx, n: number) => (await box.client!.enqueue(child, n)).result());
  await using env = await createTestEnv({ handlers: [parent, child] });
  box.client = env.client;
  expect(await env.outcome(await env.client.enqueue(parent, 21), { timeoutMs: 5000 })).toMatchObject({ ok: true, result: 42 });
});

it("advancing past the ack wait while a handler runs does not run it twice: heartbeats share the clock", async () => {
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const held = defineHandler("a.held", async () => {
    runs++;
    await gate;
    return runs;
  });
  await using env = await createTestEnv({ handlers: [held], worker: { ackWaitMs: 1000 } });
  const future = await env.client.enqueue(held);
  while (env.worker.active === 0) await new Promise((r) => setTimeout(r, 5));
  await env.advance(5000);
  release();
  expect(await env.outcome(future)).toMatchObject({ ok: true, result: 1 });
  expect(runs).toBe(1);
});

it("deadlines run on the manual clock too: retry delays that pass the deadline fail the task as on NATS", async () => {
  const flaky = defineHandler("d.flaky", async (ctx) => {
    if (ctx.attempt < 3) throw new Error("x");
    return ctx.attempt;
  });
  await using env = await createTestEnv({ handlers: [flaky] });
  const outcome = await env.outcome(await env.client.enqueueWith(flaky, { timeoutMs: 3000 }));
  expect(outcome.ok).toBe(false);
  if (!outcome.ok) expect(outcome.error.kind).toBe("deadline");
});

it("bad arguments and use after close fail clearly; concurrent advances add up", async () => {
  await expect(createTestEnv({ backend: "redis" as never })).rejects.toThrow('testing: backend must be "memory" or "nats", got "redis"');
  await expect(createTestEnv(null as never)).rejects.toThrow("testing: options must be an object");
  const env = await createTestEnv();
  await expect(env.outcome("x", { timeoutMs: Number.NaN })).rejects.toThrow("timeoutMs must be a finite number");
  const start = env.clock!.now();
  await Promise.all(Array.from({ length: 10 }, () => env.advance(1000)));
  expect(env.clock!.now() - start).toBe(10_000);
  await env.close();
  await expect(env.outcome("x")).rejects.toMatchObject({ code: "closed" });
  await expect(env.advance(1)).rejects.toMatchObject({ code: "closed" });
});

it("nextOutcome waits for the run after a requeue", async () => {
  const { requeueDeadLetter, listDeadLetters } = await import("../../../src/dlq/index.js");
  let fail = true;
  const once = defineHandler("r.once", async () => {
    if (fail) throw new TaskError("nope", "first time", { retryable: false });
    return "second time";
  });
  await using env = await createTestEnv({ handlers: [once] });
  const id = await env.client.enqueueAsync(once);
  expect((await env.outcome(id)).ok).toBe(false);
  fail = false;
  const [letter] = await listDeadLetters(env.broker);
  const next = env.nextOutcome(id);
  await requeueDeadLetter(env.broker, letter!.seq);
  expect(await next).toMatchObject({ ok: true, result: "second time" });
});
