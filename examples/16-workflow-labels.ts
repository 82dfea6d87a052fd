/**
 * 16 — labels: tag DAGs when you build them, find them later (`listDagsByLabels`).
 *
 *   npx tsx examples/16-workflow-labels.ts
 *
 * Three DAGs of one report step each: "nightly billing" [billing nightly] → `report over 15 rows`,
 * "ad-hoc billing" [billing] → 14 rows, "weekly reports" [reports] → 14 rows. Then four queries,
 * newest first: billing ⇒ 2, billing + nightly ⇒ 1, reports ⇒ 1, no labels ⇒ 3 (every DAG: run it
 * on a fresh backend, as it does by default, or the count includes the other DAGs there).
 * @module
 */
import { defineHandler } from "../src/task/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

const report = defineHandler("main.Report", async (_ctx, rows: number) => `report over ${rows} rows`);

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);
  const app = await openWorkflowApp({ handlers: [report], say });
  const { workflow } = app;
  try {
    const names = new Map<string, string>(); // DAG id → what it is, for the listing
    for (const [name, labels, rows] of [
      ["nightly billing", ["billing", "nightly"], 15],
      ["ad-hoc billing", ["billing"], 14],
      ["weekly reports", ["reports"], 14],
    ] as const) {
      const dag = workflow.dag({ labels });
      const step = dag.step("report", report, rows);
      await workflow.submit(dag);
      names.set(dag.id, name);
      say(`${name} [${labels.join(" ")}]: ${await workflow.await(step, { timeoutMs: 10_000 })}`);
    }

    for (const labels of [["billing"], ["billing", "nightly"], ["reports"], []]) {
      const found = await workflow.listDagsByLabels(...labels); // newest first
      say(`${labels.length ? labels.join(" + ") : "(no labels)"} ⇒ ${found.length}: ${found.map((m) => names.get(m.id) ?? m.id).join(", ")}`);
    }
  } finally {
    await app.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
