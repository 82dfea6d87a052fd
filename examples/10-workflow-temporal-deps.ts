/**
 * 10 — time-only dependencies: `after` (run after, skipped if it fails) versus `afterAny` (run
 * after, whatever happened).
 *
 *   npx tsx examples/10-workflow-temporal-deps.ts
 *
 * download → process (`after(download)`); metrics (`afterAny(download, process)`); no retries.
 * Scenario 1, a good URL: download done (1024, a number), process done, metrics done, DAG done.
 * Scenario 2, `bad://missing`: download failed, process skipped, metrics still done, DAG failed.
 * @module
 */
import { defineHandler, noRetryPolicy } from "../src/task/index.js";
import { WorkflowError } from "../src/workflow/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

const download = defineHandler("main.Download", async (_ctx, url: string) => {
  if (url.startsWith("bad://")) throw new Error(`cannot fetch ${url}`);
  return 1024; // bytes
});
const processFile = defineHandler("main.Process", async () => "processed");
const metrics = defineHandler("main.Metrics", async () => "metrics-ok");

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);
  const app = await openWorkflowApp({ handlers: [download, processFile, metrics], say });
  const { workflow } = app;

  const scenario = async (title: string, url: string): Promise<void> => {
    say(`${title}: ${url}`);
    const dag = workflow.dag({ retry: noRetryPolicy() });
    const fetched = dag.step("download", download, url);
    const processed = dag.step("process", processFile).after(fetched); // no data passed: order only
    dag.step("metrics", metrics).afterAny(fetched, processed);
    await workflow.submit(dag);

    const status = await workflow.awaitDag(dag.id, { timeoutMs: 10_000 }).then(
      (meta) => meta.status,
      (err: unknown) => {
        if (err instanceof WorkflowError && err.code === "dag_failed") return "failed";
        throw err;
      },
    );
    const { steps } = await workflow.dagInfo(dag.id);
    for (const step of ["download", "process", "metrics"].map((id) => steps.find((s) => s.stepId === id)!)) {
      const detail =
        step.status === "done" // the result, as JSON: 1024 is a number
          ? ` (${JSON.stringify(await workflow.awaitById(dag.id, step.stepId))})`
          : step.status === "failed"
            ? ` (${step.errorMessage})`
            : "";
      say(`  ${step.stepId}: ${step.status}${detail}`);
    }
    say(`  DAG: ${status}`);
  };

  try {
    await scenario("scenario 1", "https://example.com/data.csv");
    await scenario("scenario 2", "bad://missing");
  } finally {
    await app.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
