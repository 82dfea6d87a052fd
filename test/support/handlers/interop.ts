/**
 * TypeScript twins of ebgo's handlers (interop/go/handlers.go), same names and behaviour, for the
 * Go producer → TypeScript worker suites.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler, parseArrayRaw, rawJson, TaskError } from "../../../src/task/index.js";

/** Adds two numbers; also returns the first argument's exact text from the raw payload. */
export const bigAdd = defineHandler("interop.BigAdd", async (ctx, a: number, b: number) => ({
  sum: a + b,
  firstArgText: parseArrayRaw(ctx.task.payload)[0],
}));
/** Adds two integers exactly (BigInt over the raw payload) and returns the sum as verbatim JSON: Go's int64 gets it exactly. */
export const exactAdd = defineHandler("interop.ExactAdd", async (ctx, _a: number, _b: number) => {
  const [a = "0", b = "0"] = parseArrayRaw(ctx.task.payload);
  return rawJson<number>(String(BigInt(a) + BigInt(b)));
});
export const float = defineHandler("interop.Float", async (_ctx, x: number) => x * 1.5);
export const struct = defineHandler("interop.Struct", async (_ctx, name: string, n: number) => ({
  name,
  count: n,
  ratio: n / 4,
  at: "2026-05-01T10:00:00.123456789Z",
  Plain: true,
}));
export const voidHandler = defineHandler("interop.Void", async () => undefined);
export const nil = defineHandler("interop.Nil", async () => null);
export const fail = defineHandler("interop.Fail", async (_ctx, kind: string, msg: string, retryable: boolean) => {
  throw new TaskError(kind, msg, { retryable });
});
/** Fails (kind handler, retryable) on attempts 1..n, then returns the attempt. */
export const flaky = defineHandler("interop.Flaky", async (ctx, n: number) => {
  if (ctx.attempt <= n) throw new Error(`flaky: attempt ${ctx.attempt} of ${n} failing`);
  return ctx.attempt;
});
export const sleepHandler = defineHandler("interop.Sleep", async (ctx, ms: number) => {
  await sleep(ms, undefined, { signal: ctx.signal });
  return "slept";
});
/** Counts its runs in `nonRetryableRuns`, then fails with kind validation, not retryable. */
export const nonRetryableRuns = { count: 0 };
export const nonRetryable = defineHandler("interop.NonRetryable", async (_ctx, msg: string) => {
  nonRetryableRuns.count++;
  throw new TaskError("validation", msg, { retryable: false });
});
export const whoAmI = defineHandler("interop.WhoAmI", async (ctx) => ctx.workerId);

/** Every handler above. */
export const interopHandlers = [bigAdd, exactAdd, float, struct, voidHandler, nil, fail, flaky, sleepHandler, nonRetryable, whoAmI];
