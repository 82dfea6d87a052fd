/**
 * 13 — cancel: stop a DAG for good, its running step included.
 *
 *   npx tsx examples/13-workflow-cancel.ts
 *
 * long (runs until told otherwise) → after (`after(long)`). `cancel()` while `long` runs: the DAG is
 * canceled, the pending `after` step is canceled, and `long`'s handler sees `ctx.signal` abort (reason
 * kind `canceled`), so its step is recorded canceled too. Logs the handler's abort,
 * `long step was canceled`, `after step was canceled`, `DAG status: canceled`.
 *
 * Unlike ebind for Go, whose cancel lets a running step finish (`long step result: long-finished`),
 * cancel here aborts the running handler's signal and records the step canceled.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler, TaskError } from "../src/task/index.js";
import { WorkflowError } from "../src/workflow/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);

  let longStarted = (): void => {};
  const running = new Promise<void>((resolve) => (longStarted = resolve));
  let longEnded = (_abortReason: unknown): void => {};
  const ended = new Promise<unknown>((resolve) => (longEnded = resolve));
  const long = defineHandler("main.Long", async (ctx) => {
    longStarted();
    try {
      await sleep(60_000, undefined, { signal: ctx.signal }); // a long job that honours its signal
      return "long-finished";
    } finally {
      longEnded(ctx.signal.reason);
    }
  });
  const after = defineHandler("main.After", async () => "after-finished");

  const app = await openWorkflowApp({ handlers: [long, after], say });
  const { workflow } = app;
  try {
    const dag = workflow.dag();
    const first = dag.step("long", long);
    const second = dag.step("after", after).after(first);
    await workflow.submit(dag);

    await running;
    // ebind for Go lets a running step finish; here cancel aborts its handler's signal and records it canceled.
    say(`cancel while long runs: ${await workflow.cancel(dag.id)}`);
    const reason = await ended;
    say(`long step's handler saw its signal abort: ${reason instanceof TaskError ? `kind ${reason.kind}` : String(reason)}`);
    for (const step of [first, second]) {
      try {
        say(`${step.id} step result: ${await workflow.await(step, { timeoutMs: 10_000 })}`);
      } catch (err) {
        if (!(err instanceof WorkflowError && err.code === "step_canceled")) throw err;
        say(`${step.id} step was canceled`);
      }
    }
    say(`DAG status: ${(await workflow.dagInfo(dag.id)).meta.status}`);
  } finally {
    await app.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
