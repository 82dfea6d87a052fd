/** ebind handlers shared by the producer and the worker child (both import this module). */
import { defineHandler } from "../../src/index.js";

/** The payload every system carries: 100 ASCII bytes. */
export const PAYLOAD = "x".repeat(100);

/** Handler invocations in this process; the worker child hooks `onRun`. */
export const counter = { runs: 0, onRun: undefined as undefined | (() => void) };
function ran(): void {
  counter.runs++;
  counter.onRun?.();
}

export const noop = defineHandler("bench.noop", async (_ctx, _payload: string) => {
  ran();
  return 1;
});

/** Fails on attempts 1 and 2, succeeds on 3 (ctx.attempt is 1-based). */
export const flaky = defineHandler("bench.flaky", async (ctx, _payload: string) => {
  ran();
  if (ctx.attempt < 3) throw new Error("transient");
  return 1;
});

export const step = defineHandler("bench.step", async (_ctx, prev: number) => {
  ran();
  return prev + 1;
});

export const join = defineHandler("bench.join", async (_ctx, a: number, b: number, c: number, d: number, e: number, f: number) => {
  ran();
  return a + b + c + d + e + f;
});
