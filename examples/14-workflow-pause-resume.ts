/**
 * 14 — pause and resume: running steps finish, nothing new starts until `resume()`.
 *
 *   npx tsx examples/14-workflow-pause-resume.ts
 *
 * extract(42) → transform (×2; runs until the example lets it finish) → load. `pause()` while
 * transform runs returns `pausing`; once transform finishes the DAG is `paused` and `load` waits,
 * `pending held=true`. `resume()` lets it start: `load result: loaded 84 rows`, DAG done.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler } from "../src/task/index.js";
import type { DagStatus, Workflow } from "../src/workflow/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

const extract = defineHandler("main.Extract", async (_ctx, rows: number) => rows);
const load = defineHandler("main.Load", async (_ctx, rows: number) => `loaded ${rows} rows`);

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);

  let transformStarted = (): void => {};
  const running = new Promise<void>((resolve) => (transformStarted = resolve));
  let finishTransform = (): void => {};
  const finish = new Promise<void>((resolve) => (finishTransform = resolve));
  const transform = defineHandler("main.Transform", async (_ctx, rows: number) => {
    transformStarted();
    await finish;
    return rows * 2;
  });

  const app = await openWorkflowApp({ handlers: [extract, transform, load], say });
  const { workflow } = app;
  try {
    const dag = workflow.dag();
    const extracted = dag.step("extract", extract, 42);
    const transformed = dag.step("transform", transform, extracted.ref());
    const loaded = dag.step("load", load, transformed.ref());
    await workflow.submit(dag);

    await running;
    say(`pause while transform runs: ${await workflow.pause(dag.id)}`);
    finishTransform();
    await workflow.await(transformed, { timeoutMs: 10_000 });
    say(`transform finished: ${await statusOnceSettled(workflow, dag.id)}`); // pausing → paused, no step left running
    const loadStep = (await workflow.dagInfo(dag.id)).steps.find((s) => s.stepId === "load")!;
    say(`load: ${loadStep.status} held=${loadStep.held}`);

    say(`resume: ${await workflow.resume(dag.id)}`);
    say(`load result: ${await workflow.await(loaded, { timeoutMs: 10_000 })}`);
    say(`DAG status: ${(await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status}`);
  } finally {
    finishTransform();
    await app.close();
  }
  return lines;
}

/** The DAG's status once it is no longer `pausing` (the scheduler moves it on when transform's outcome arrives). */
async function statusOnceSettled(workflow: Workflow, dagId: string): Promise<DagStatus> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
    const { status } = (await workflow.dagInfo(dagId)).meta;
    if (status !== "pausing") return status;
  }
  throw new Error(`DAG ${dagId} still pausing after 10 s`);
}

runIfMain(import.meta.url, () => main());
