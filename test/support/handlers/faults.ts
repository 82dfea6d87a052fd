/**
 * Handlers of the fault-injection chaos suite (test/chaos/faults/) and the soak (scripts/chaos.ts),
 * shared by the producer (to enqueue tasks and build DAGs) and the workflow worker child processes
 * (to run them). Every value is deterministic, so a result can be checked without a record of who
 * ran what.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler } from "../../../src/task/index.js";
import type { Workflow } from "../../../src/workflow/index.js";

/** Leaves of one fault DAG. */
export const FAULT_LEAVES = 6;

/** The value task `i` of load `seed` returns: exact in a double for seed < 10⁶ and i < 10⁷. */
export function taskValue(seed: number, i: number): number {
  return seed * 10_000_000 + i;
}

/** The value leaf `i` of DAG `n` returns. */
export function faultLeafValue(n: number, i: number): number {
  return n * 100 + i;
}

/** What the `final` step of DAG `n` returns: the sum of its leaves plus `n`. */
export function faultFinalValue(n: number): number {
  let sum = 0;
  for (let i = 0; i < FAULT_LEAVES; i++) sum += faultLeafValue(n, i);
  return sum + n;
}

/** A plain task: sleeps 0–9 ms (deterministic), then returns {@link taskValue}. */
export const faultsTask = defineHandler("faults.task", async (ctx, seed: number, i: number) => {
  await sleep(i % 10, undefined, { signal: ctx.signal });
  return taskValue(seed, i);
});

/** The root of a fault DAG: returns `n`. */
export const faultsRoot = defineHandler("faults.root", async (_ctx, n: number) => n);

/** A leaf: sleeps 20–80 ms (deterministic), then returns {@link faultLeafValue} of (root's `n`, i). */
export const faultsLeaf = defineHandler("faults.leaf", async (ctx, n: number, i: number) => {
  await sleep(20 + ((n * 13 + i * 7) % 61), undefined, { signal: ctx.signal });
  return faultLeafValue(n, i);
});

/** The join: the sum of the leaves, and the leaf index each argument decodes to (in argument order). */
export const faultsJoin = defineHandler(
  "faults.join",
  async (_ctx, n: number, ...leaves: number[]) => ({ sum: leaves.reduce((a, b) => a + b, 0), indices: leaves.map((v) => v - n * 100) }),
  { arity: 1 + FAULT_LEAVES },
);

/** The final step, after the join: the join's sum plus `n` (see {@link faultFinalValue}). */
export const faultsFinal = defineHandler("faults.final", async (_ctx, n: number, joined: { sum: number; indices: number[] }) => {
  if (joined.indices.join(",") !== Array.from({ length: FAULT_LEAVES }, (_, i) => i).join(",")) {
    throw new Error(`faults.final ${n}: the join got leaves in the wrong order: ${JSON.stringify(joined.indices)}`);
  }
  return joined.sum + n;
});

/** Every handler of this module, to register on a worker. */
export const FAULT_HANDLERS = [faultsTask, faultsRoot, faultsLeaf, faultsJoin, faultsFinal] as const;

/** The step ids of every fault DAG. */
export const FAULT_STEP_IDS: readonly string[] = ["root", ...Array.from({ length: FAULT_LEAVES }, (_, i) => `leaf-${i}`), "join", "final"];

/**
 * Fault DAG number `n` with id `id` (not submitted): `root` (n) → {@link FAULT_LEAVES} leaves
 * `leaf-<i>` → `join` (root and every leaf, in order) → `final`. Nine steps.
 */
export function faultDag(workflow: Workflow, id: string, n: number) {
  const dag = workflow.dag({ id });
  const root = dag.step("root", faultsRoot, n);
  const leaves = Array.from({ length: FAULT_LEAVES }, (_, i) => dag.step(`leaf-${i}`, faultsLeaf, root.ref(), i));
  const join = dag.step("join", faultsJoin, root.ref(), ...leaves.map((l) => l.ref()));
  const final = dag.step("final", faultsFinal, root.ref(), join.ref());
  return { dag, final };
}
