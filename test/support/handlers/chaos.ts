/**
 * Handlers of the workflow chaos tests (test/integration/workflow/chaos*.test.ts), shared by the test
 * process (to build the DAG) and the worker child processes (to run it).
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler } from "../../../src/task/index.js";
import type { Workflow } from "../../../src/workflow/index.js";

/** Leaves of the fan-out. */
export const CHAOS_LEAVES = 200;

/** The value leaf `i` returns for `seed`: decodable back to `i` while i < 1000. */
export function leafValue(seed: number, i: number): number {
  return seed * 1000 + i;
}

/** How long leaf `i` sleeps: 20–50 ms, deterministic. */
export function leafSleepMs(i: number): number {
  return 20 + ((i * 7) % 31);
}

/** The root: returns the seed. */
export const chaosSeed = defineHandler("chaos.seed", async (_ctx, seed: number) => seed);

/** One leaf: sleeps 20–50 ms, then returns {@link leafValue}. */
export const chaosLeaf = defineHandler("chaos.leaf", async (ctx, seed: number, i: number) => {
  await sleep(leafSleepMs(i), undefined, { signal: ctx.signal });
  return leafValue(seed, i);
});

/** A slow leaf (300–600 ms), for tests that must catch leaves running: same value as {@link chaosLeaf}. */
export const chaosSlowLeaf = defineHandler("chaos.slowLeaf", async (ctx, seed: number, i: number) => {
  await sleep(300 + ((i * 37) % 301), undefined, { signal: ctx.signal });
  return leafValue(seed, i);
});

/** The join: the sum of every leaf, and the leaf index each argument decodes to (in argument order). */
export const chaosJoin = defineHandler(
  "chaos.join",
  async (_ctx, seed: number, ...values: number[]) => ({
    sum: values.reduce((a, b) => a + b, 0),
    indices: values.map((v) => v - seed * 1000),
  }),
  { arity: 1 + CHAOS_LEAVES },
);

/**
 * The chaos DAG `id` (not submitted): `root` (chaosSeed of `seed`) → {@link CHAOS_LEAVES} leaves
 * `leaf-<i>` (`leaf` of root, i) → `join` (chaosJoin of root and every leaf, in order).
 */
export function chaosDag(workflow: Workflow, id: string, seed: number, leaf: typeof chaosLeaf) {
  const dag = workflow.dag({ id });
  const root = dag.step("root", chaosSeed, seed);
  const leaves = Array.from({ length: CHAOS_LEAVES }, (_, i) => dag.step(`leaf-${i}`, leaf, root.ref(), i));
  const join = dag.step("join", chaosJoin, root.ref(), ...leaves.map((l) => l.ref()));
  return { dag, leaves, join };
}
