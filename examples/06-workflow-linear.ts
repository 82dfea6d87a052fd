/**
 * 06 — a linear workflow: three steps, each taking the previous step's result (`ref()`).
 *
 *   npx tsx examples/06-workflow-linear.ts
 *
 * fetch("user-42") → build profile → format. Logs `final: PROFILE: Alice <alice@example.com>`, waits
 * for the DAG to end, then prints its debug report (`formatDebug(await workflow.debug(id))`).
 * @module
 */
import { defineHandler } from "../src/task/index.js";
import { formatDebug } from "../src/workflow/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

interface User {
  id: string;
  name: string;
  email: string;
}

const fetchUser = defineHandler("main.FetchUser", async (_ctx, id: string): Promise<User> => ({ id, name: "Alice", email: "alice@example.com" }));
const buildProfile = defineHandler("main.BuildProfile", async (_ctx, user: User) => `${user.name} <${user.email}>`);
const format = defineHandler("main.Format", async (_ctx, profile: string) => `PROFILE: ${profile}`);

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);
  // A backend, a worker running these handlers for the workflow, the scheduler starting steps whose
  // inputs are ready: see workflow-app.ts. The worker's id shows in the debug report.
  const app = await openWorkflowApp({ handlers: [fetchUser, buildProfile, format], say, worker: { workerId: "worker-1" } });
  const { workflow } = app;
  try {
    const dag = workflow.dag();
    const user = dag.step("fetch", fetchUser, "user-42");
    const profile = dag.step("profile", buildProfile, user.ref()); // buildProfile(ctx, user: User): type-checked
    const final = dag.step("format", format, profile.ref());
    await workflow.submit(dag);

    say(`final: ${await workflow.await(final, { timeoutMs: 10_000 })}`);
    await workflow.awaitDag(dag.id, { timeoutMs: 10_000 });
    for (const line of formatDebug(await workflow.debug(dag.id)).trimEnd().split("\n")) say(line);
  } finally {
    await app.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
