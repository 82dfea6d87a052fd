/**
 * 08 — optional steps: a step whose failure does not fail the DAG, and a ref with a fallback.
 *
 *   npx tsx examples/08-workflow-optional.ts
 *
 * The DAG never retries (`retry: noRetryPolicy()`). `enrich` is optional and fails; `render` takes
 * `enrich.refOrDefault("[no enrichment]")`, so it still runs, with the fallback. Logs
 * `result: rendered(core:user-7 + [no enrichment])` and `DAG status: done (…)`.
 * @module
 */
import { defineHandler, noRetryPolicy, TaskError } from "../src/task/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

const loadCore = defineHandler("main.LoadCore", async (_ctx, userId: string) => `core:${userId}`);
const enrich = defineHandler("main.Enrich", async (_ctx, _core: string): Promise<string> => {
  throw new TaskError("unavailable", "enrichment service unavailable");
});
const render = defineHandler("main.Render", async (_ctx, core: string, extra: string) => `rendered(${core} + ${extra})`);

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);
  const app = await openWorkflowApp({ handlers: [loadCore, enrich, render], say });
  const { workflow } = app;
  try {
    const dag = workflow.dag({ retry: noRetryPolicy() }); // every step: one attempt
    const core = dag.step("core", loadCore, "user-7");
    const extra = dag.step("enrich", enrich, core.ref()).optional();
    const page = dag.step("render", render, core.ref(), extra.refOrDefault("[no enrichment]"));
    await workflow.submit(dag);

    say(`result: ${await workflow.await(page, { timeoutMs: 10_000 })}`);
    const meta = await workflow.awaitDag(dag.id, { timeoutMs: 10_000 });
    const failed = (await workflow.dagInfo(dag.id)).steps.find((s) => s.stepId === "enrich");
    say(`DAG status: ${meta.status} (optional step enrich ${failed?.status}: ${failed?.errorMessage})`);
  } finally {
    await app.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
