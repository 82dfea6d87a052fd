/**
 * 12 — placement: where a step runs. `onTarget(claim)`, `colocateWith(step)`,
 * `followTargetOf(step)`, and a dynamic step's `colocateHere`.
 *
 *   npx tsx examples/12-workflow-placement.ts
 *
 * Two workers: `worker-a` claims `primary`, `worker-b` claims `secondary`; they re-read their claims
 * every 50 ms and hand back a task whose claim moved away after 25 ms. Each scenario logs the pair of
 * workers; a pair that is not as placement promises throws.
 * (a) `hold-primary` (on `primary`) runs on worker-a; while it runs the claims swap; `same-worker`
 *     (`colocateWith(hold)`) still runs on worker-a: it follows the worker, not the claim.
 * (b) the claims start swapped, so `hold-primary` runs on worker-b; while it runs they swap back;
 *     `follow-primary` (`followTargetOf(hold)`) resolves `primary` again when it starts: worker-a.
 * (c) `spawn-here` adds `child-here` with `colocateHere`: the child runs where the parent ran.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler } from "../src/task/index.js";
import { claimsFunc, type Worker, type WorkerOptions } from "../src/worker/index.js";
import { dagContext } from "../src/workflow/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

/** A promise and the function that resolves it. */
function latch(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Returns the id of the worker that runs it. */
const whereAmI = defineHandler("main.WhereAmI", async (ctx) => ctx.workerId);

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);

  // `hold` runs until the example releases it, so the claims can move while it runs.
  let started = latch();
  let release = latch();
  const hold = defineHandler("main.Hold", async (ctx) => {
    started.resolve();
    await release.promise;
    return ctx.workerId;
  });
  const spawnHere = defineHandler("main.SpawnHere", async (ctx) => {
    await dagContext(ctx)!.addStepWith("child-here", { colocateHere: true }, whereAmI);
    return ctx.workerId;
  });

  let primaryOn = "worker-a"; // who claims "primary"; the other worker claims "secondary"
  /** A worker's own options: its id, its claim (re-read every 50 ms), a moved claim's task handed back after 25 ms. */
  const claiming = (workerId: string): WorkerOptions => ({
    workerId,
    claims: claimsFunc(() => [workerId === primaryOn ? "primary" : "secondary"]),
    claimRefreshIntervalMs: 50,
    claimRetryDelayMs: 25,
  });
  const app = await openWorkflowApp({ handlers: [whereAmI, hold, spawnHere], say, worker: claiming("worker-a") });
  const { workflow } = app;
  const workers = [app.worker, await app.startWorker(claiming("worker-b"))]; // the same handlers, the same wiring

  /** Gives `primary` to `workerId` and waits until both workers have re-read their claims. */
  const movePrimaryTo = async (workerId: string): Promise<void> => {
    primaryOn = workerId;
    const moved = (w: Worker): boolean => w.claims().includes(w.id === workerId ? "primary" : "secondary") && w.claims().length === 2; // + worker:<id>
    for (const deadline = Date.now() + 5_000; !workers.every(moved); await sleep(10)) {
      if (Date.now() > deadline) throw new Error(`claims did not move within 5 s: ${workers.map((w) => `${w.id} [${w.claims().join(" ")}]`).join(", ")}`);
    }
  };
  const check = (scenario: string, first: string, firstOn: string, second: string, secondOn: string, same: boolean): void => {
    say(`${scenario}: ${first} ran on ${firstOn}, ${second} on ${secondOn}`);
    if ((firstOn === secondOn) !== same) throw new Error(`${scenario}: ${second} should run on ${same ? "the same worker as" : "another worker than"} ${first}`);
  };
  /** Runs a DAG of `hold-primary` and one more step, moving `primary` to `moveTo` while hold runs. */
  const holdThenMove = async (scenario: string, moveTo: string, add: "colocateWith" | "followTargetOf"): Promise<void> => {
    started = latch();
    release = latch();
    const dag = workflow.dag();
    const held = dag.step("hold-primary", hold).onTarget("primary");
    const next = add === "colocateWith" ? dag.step("same-worker", whereAmI).colocateWith(held) : dag.step("follow-primary", whereAmI).followTargetOf(held);
    await workflow.submit(dag);
    await started.promise;
    await movePrimaryTo(moveTo);
    release.resolve();
    const holdOn = await workflow.await(held, { timeoutMs: 10_000 });
    const nextOn = await workflow.await(next, { timeoutMs: 10_000 });
    check(scenario, held.id, holdOn, next.id, nextOn, add === "colocateWith");
  };

  try {
    await holdThenMove("(a) colocateWith", "worker-b", "colocateWith");
    await holdThenMove("(b) followTargetOf", "worker-a", "followTargetOf"); // starts swapped after (a)

    const dag = workflow.dag();
    const parent = dag.step("spawn-here", spawnHere);
    await workflow.submit(dag);
    const parentOn = await workflow.await(parent, { timeoutMs: 10_000 });
    const childOn = await workflow.awaitById<string>(dag.id, "child-here", { timeoutMs: 10_000 });
    check("(c) colocateHere", parent.id, parentOn, "child-here", childOn, true);
  } finally {
    release.resolve();
    await app.close(); // both workers
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
