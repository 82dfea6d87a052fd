/**
 * 15 — breakpoints: stop a run before or after chosen steps, look around, release.
 *
 *   npx tsx examples/15-workflow-breakpoints.ts
 *
 * download (`breakAfter("AfterDownload")`) → parse → upload (`breakBefore("BeforeUpload")`); audit
 * runs on its own. Both labels are armed for this run (`submit(dag, { breakpoints })`). The download
 * result (`raw,csv,data`) is readable while parse waits behind it (1 blocked); audit is not stopped
 * (`audit ok`). The breakpoint table; release AfterDownload (released 1); `parse = 12`; upload
 * stops before it starts (1 blocked); release BeforeUpload (released 1); `uploaded 12 rows`; DAG done.
 * @module
 */
import { defineHandler } from "../src/task/index.js";
import type { BreakpointInfo } from "../src/workflow/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

const download = defineHandler("main.Download", async () => "raw,csv,data");
const parse = defineHandler("main.Parse", async (_ctx, raw: string) => raw.length); // 12 "rows"
const upload = defineHandler("main.Upload", async (_ctx, rows: number) => `uploaded ${rows} rows`);
const audit = defineHandler("main.Audit", async () => "audit ok");

/** The breakpoint table: one row per declared position, columns aligned. */
function table(breakpoints: readonly BreakpointInfo[]): string[] {
  const rows = breakpoints.map((b) => [b.stepId, b.position, `[${b.labels.join(" ")}]`, b.armed ? "armed" : "inactive", b.state ?? "-", b.holding?.length ? `holding [${b.holding.join(" ")}]` : ""]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]!.length))) ?? [];
  return rows.map((r) => `  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")}`.trimEnd());
}

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);
  const app = await openWorkflowApp({ handlers: [download, parse, upload, audit], say });
  const { workflow } = app;
  try {
    const dag = workflow.dag();
    const raw = dag.step("download", download).breakAfter("AfterDownload");
    const rows = dag.step("parse", parse, raw.ref());
    const sent = dag.step("upload", upload, rows.ref()).breakBefore("BeforeUpload");
    const audited = dag.step("audit", audit);
    await workflow.submit(dag, { breakpoints: ["AfterDownload", "BeforeUpload"] });
    const blocked = async (): Promise<number> => (await workflow.listBreakpoints(dag.id)).filter((b) => b.state === "blocked").length;

    say(`download result: ${await workflow.await(raw, { timeoutMs: 10_000 })} (${await blocked()} blocked)`);
    say(`audit: ${await workflow.await(audited, { timeoutMs: 10_000 })}`);
    say("breakpoints:");
    for (const line of table(await workflow.listBreakpoints(dag.id))) say(line);

    say(`resume AfterDownload: released ${await workflow.resumeBreakpoint(dag.id, "AfterDownload")}`);
    say(`parse = ${await workflow.await(rows, { timeoutMs: 10_000 })} (${await blocked()} blocked)`);
    say(`resume BeforeUpload: released ${await workflow.resumeBreakpoint(dag.id, "BeforeUpload")}`);
    say(`upload: ${await workflow.await(sent, { timeoutMs: 10_000 })}`);
    say(`DAG status: ${(await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status}`);
  } finally {
    await app.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
