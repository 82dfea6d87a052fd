/**
 * Handlers shared by the integration tests and the worker child processes they start.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler, TaskError } from "../../../src/task/index.js";

export const echo = defineHandler("test.echo", async (_ctx, s: string) => `echo:${s}`);
export const add = defineHandler("test.add", async (_ctx, a: number, b: number) => a + b);
/** Sleeps `ms` (honouring the signal) and returns the id of the worker that ran it. */
export const slow = defineHandler("test.slow", async (ctx, ms: number, tag: string) => {
  await sleep(ms, undefined, { signal: ctx.signal });
  return { tag, workerId: ctx.workerId, attempt: ctx.attempt };
});
export const whoAmI = defineHandler("test.whoAmI", async (ctx) => ctx.workerId);
export const square = defineHandler("test.square", async (ctx, n: number) => ({ square: n * n, workerId: ctx.workerId }));
export const nonRetryable = defineHandler("test.nonRetryable", async (_ctx) => {
  throw new TaskError("validation", "email is missing", { retryable: false });
});
