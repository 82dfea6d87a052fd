/**
 * 11 — a DAG outlives the process that submitted it: another process awaits it by id.
 *
 *   npx tsx examples/11-workflow-resume.ts                      # submits, prints the DAG id
 *   npx tsx examples/11-workflow-resume.ts --resume <dag-id>    # finishes it, awaits step "final"
 *
 * Options: `--store-dir DIR` (default `<tmpdir>/ebind-resume-demo`), the embedded nats-server's
 * store, kept between runs; with `NATS_URL` set, that deployment is used instead.
 *
 * The DAG is fetch(4) → final. The first run stands for a process that stops half-way: it runs a
 * worker, so `fetch` runs here, but no scheduler, so nothing in this process moves the DAG on to
 * `final`. It prints `submitted DAG <id>` and how to resume. The second run, knowing only the id,
 * starts a worker and a scheduler: the scheduler picks up the `fetch` outcome left in the store and
 * starts `final`; `awaitById` logs `got profile: {"name":"alice","total":41}`. `fetch` is not run
 * again.
 * @module
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defineHandler } from "../src/task/index.js";
import { WorkflowError } from "../src/workflow/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

interface Orders {
  name: string;
  amounts: number[];
}
interface Profile {
  name: string;
  total: number;
}

const fetchOrders = defineHandler("main.FetchOrders", async (_ctx, count: number): Promise<Orders> => ({ name: "alice", amounts: [5, 8, 12, 16].slice(0, count) }));
const final = defineHandler("main.Final", async (_ctx, orders: Orders): Promise<Profile> => ({ name: orders.name, total: orders.amounts.reduce((a, b) => a + b, 0) }));

/** The store directory both runs use unless told otherwise. */
export const DEFAULT_STORE_DIR = join(tmpdir(), "ebind-resume-demo");

/** Runs the example with command-line `args`; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log, args: string[] = []): Promise<string[]> {
  const { lines, say } = recorder(out);
  const { values } = parseArgs({ args, options: { resume: { type: "string" }, "store-dir": { type: "string" } } });
  const storeDir = values["store-dir"] ?? DEFAULT_STORE_DIR;

  // A worker in both runs, on the kept store; no scheduler yet (`scheduler: false`): the first run
  // never starts one, the second once it has read where the DAG stands.
  const app = await openWorkflowApp({ handlers: [fetchOrders, final], say, backend: { storeDir }, scheduler: false });
  const { backend, workflow } = app;
  try {
    if (values.resume === undefined) {
      // First run: submit, let fetch run, stop. No scheduler here.
      const dag = workflow.dag();
      const orders = dag.step("fetch", fetchOrders, 4);
      dag.step("final", final, orders.ref());
      await workflow.submit(dag);
      say(`submitted DAG ${dag.id}`);
      const fetched = await workflow.await(orders, { timeoutMs: 10_000 });
      say(`fetch ran in this process: ${fetched.amounts.length} orders of ${fetched.name}; stopping before final`);
      if (backend.kind === "memory") say("(the memory backend keeps nothing after this process: install nats-server to resume)");
      else say(`resume with: npx tsx examples/11-workflow-resume.ts --resume ${dag.id}${backend.kind === "embedded" ? ` --store-dir ${storeDir}` : ""}`);
    } else {
      const dagId = values.resume;
      const before = await workflow.dagInfo(dagId).catch((err: unknown) => {
        if (err instanceof WorkflowError && err.code === "dag_not_found") return undefined;
        throw err;
      });
      if (before === undefined) {
        say(`DAG ${dagId} not found (${backend.description})`);
        return lines;
      }
      say(`resuming DAG ${dagId}: ${before.steps.map((s) => `${s.stepId} ${s.status}`).join(", ")}`);
      await app.startScheduler(); // picks up fetch's recorded outcome and starts final
      const profile = await workflow.awaitById<Profile>(dagId, "final", { timeoutMs: 30_000 });
      say(`got profile: ${JSON.stringify(profile)}`);
    }
  } finally {
    await app.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main(console.log, process.argv.slice(2)));
