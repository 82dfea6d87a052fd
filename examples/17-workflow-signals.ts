/**
 * 17 — signals: a step that waits for a person's approval, delivered from outside the DAG.
 *
 *   npx tsx examples/17-workflow-signals.ts
 *
 * build → deploy(approval payload, build result); audit runs on its own. `approval` is a typed
 * signal (`defineSignal<Approval>("approval")`): `approval.ref()` feeds deploy's `Approval`
 * parameter, and deploy waits until it is delivered. Logs build's result, `audit ok`, the signal
 * while awaited (`approval awaited waiting=[deploy]`), the first delivery (true), a second one from
 * mallory (false: the first delivery wins), deploy's result
 * `app-v1.2.3.tar.gz deployed by eugene (ship it)`, the signal once delivered, and the DAG done.
 * @module
 */
import { defineHandler } from "../src/task/index.js";
import { defineSignal, type SignalInfo } from "../src/workflow/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

interface Approval {
  by: string;
  note: string;
}

const approval = defineSignal<Approval>("approval");

const build = defineHandler("main.Build", async (_ctx, version: string) => `app-v${version}.tar.gz`);
const deploy = defineHandler("main.Deploy", async (_ctx, ok: Approval, artifact: string) => `${artifact} deployed by ${ok.by} (${ok.note})`);
const audit = defineHandler("main.Audit", async () => "audit ok");

function describeSignal(s: SignalInfo): string {
  return s.delivered ? `${s.name} delivered payload=${s.payload}` : `${s.name} awaited waiting=[${(s.waiting ?? []).join(" ")}]`;
}

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);
  const app = await openWorkflowApp({ handlers: [build, deploy, audit], say });
  const { workflow } = app;
  try {
    const dag = workflow.dag();
    const artifact = dag.step("build", build, "1.2.3");
    const deployed = dag.step("deploy", deploy, approval.ref(), artifact.ref()); // waits for the signal
    const audited = dag.step("audit", audit);
    await workflow.submit(dag);

    say(`build: ${await workflow.await(artifact, { timeoutMs: 10_000 })}`);
    say(`audit: ${await workflow.await(audited, { timeoutMs: 10_000 })}`);
    for (const s of await workflow.listSignals(dag.id)) say(`signal info: ${describeSignal(s)}`);

    // From anywhere that knows the DAG id (an HTTP handler, ebctl...): the payload is type-checked.
    say(`signal from eugene delivered=${await workflow.signal(dag.id, approval, { by: "eugene", note: "ship it" })}`);
    say(`signal from mallory delivered=${await workflow.signal(dag.id, approval, { by: "mallory", note: "me too" })}`);
    say(`deploy: ${await workflow.await(deployed, { timeoutMs: 10_000 })}`);
    for (const s of await workflow.listSignals(dag.id)) say(`signal info: ${describeSignal(s)}`);
    say(`DAG status: ${(await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status}`);
  } finally {
    await app.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
