/**
 * `ebind/testing`: the README's example (a handler that fails twice, then succeeds) on the manual
 * clock without sleeping, the DLQ helper, fire-and-forget outcomes, and the same on a real node.
 */
import { expect, it } from "vitest";
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
