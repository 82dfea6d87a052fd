/**
 * 09 — dynamic steps: a running step adds more steps to its own DAG.
 *
 *   npx tsx examples/09-workflow-dynamic.ts
 *
 * `scan` finds three pages and adds `page-0`..`page-2` (`ProcessPage(i)`) with
 * `dagContext(ctx).addStep(...)`; each added step runs after `scan`. The DAG ends when they have
 * all run. Logs `DAG done with 4 total steps:` and each step's status.
 * @module
 */
import { defineHandler } from "../src/task/index.js";
import { dagContext } from "../src/workflow/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

const processPage = defineHandler("main.ProcessPage", async (_ctx, page: number) => `page ${page} processed`);
const scan = defineHandler("main.Scan", async (ctx, pages: number) => {
  const dag = dagContext(ctx)!; // set by workflow.middleware for every DAG step
  for (let i = 0; i < pages; i++) await dag.addStep(`page-${i}`, processPage, i);
  return `${pages} pages found`;
});

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);
  const app = await openWorkflowApp({ handlers: [scan, processPage], say }); // the worker runs workflow.middleware: dagContext(ctx)
  const { workflow } = app;
  try {
    const dag = workflow.dag();
    dag.step("scan", scan, 3);
    await workflow.submit(dag);

    const meta = await workflow.awaitDag(dag.id, { timeoutMs: 10_000 }); // the added steps included
    const { steps } = await workflow.dagInfo(dag.id);
    say(`DAG ${meta.status} with ${steps.length} total steps:`);
    for (const s of steps) say(`  ${s.stepId}: ${s.status}`);
  } finally {
    await app.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
