/**
 * Handlers for the workflow tests (reference §6.15's add → double → concat and friends).
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler, TaskError, type DefinedHandler, type HandlerContext } from "../../../src/task/index.js";
import { dagContext } from "../../../src/workflow/index.js";

export const add = defineHandler("wf.add", async (_ctx, a: number, b: number) => a + b);
export const double = defineHandler("wf.double", async (_ctx, n: number) => n * 2);
export const concat = defineHandler("wf.concat", async (_ctx, prefix: string, n: number) => `${prefix}:${n}`);
export const sum = defineHandler("wf.sum", async (_ctx, ...ns: number[]) => ns.reduce((a, b) => a + b, 0), { arity: 2 });
export const fail = defineHandler("wf.fail", async (_ctx, message: string) => {
  throw new TaskError("boom", message, { retryable: false });
});
/** Fails like {@link fail}, but is declared to return a number (so refs to it are numbers). */
export const failNumber = defineHandler("wf.failNumber", async (_ctx, message: string): Promise<number> => {
  throw new TaskError("boom", message, { retryable: false });
});
export const nothing = defineHandler("wf.nothing", async () => {});
export const echoValue = defineHandler("wf.echoValue", async (_ctx, value: unknown) => value);
export const slowValue = defineHandler("wf.slowValue", async (ctx, ms: number, value: string) => {
  await sleep(ms, undefined, { signal: ctx.signal });
  return value;
});
export const whereAmI = defineHandler("wf.whereAmI", async (ctx) => ctx.workerId);
/** Adds `n` dynamic steps `page-<i>` doubling i, and returns n. */
export const fanOut = defineHandler("wf.fanOut", async (ctx, n: number) => {
  const dag = dagContext(ctx)!;
  for (let i = 0; i < n; i++) await dag.addStep(`page-${i}`, double, i);
  return n;
});

/**
 * A handler `name` returning its argument, with `runs`: how many times it ran per `<dag>/<step>`
 * (no entry for a step it never ran).
 */
export function countedHandler<T>(name: string): { counted: DefinedHandler<(ctx: HandlerContext, v: T) => Promise<T>>; runs: Map<string, number> } {
  const runs = new Map<string, number>();
  const counted = defineHandler(name, async (ctx, v: T) => {
    const key = `${ctx.task.dagId}/${ctx.task.stepId}`;
    runs.set(key, (runs.get(key) ?? 0) + 1);
    return v;
  });
  return { counted, runs };
}
