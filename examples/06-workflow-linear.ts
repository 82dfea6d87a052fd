/**
 * 06 — a linear workflow: three steps, each taking the previous step's result (`ref()`).
 *
 *   npx tsx examples/06-workflow-linear.ts
 *
 * fetch("user-42") → build profile → format. Logs `final: PROFILE: Alice <alice@example.com>`, waits
 * for the DAG to end, then prints its debug report (`formatDebug(await workflow.debug(id))`).
 * @module
 */
import { openDevBackend } from "../src/dev/backend.js";
import { defineHandler, Registry } from "../src/task/index.js";
import { Worker } from "../src/worker/index.js";
import { formatDebug, Workflow } from "../src/workflow/index.js";
import { runIfMain } from "./run-main.js";

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
  const lines: string[] = [];
  const say = (line: string): void => {
    lines.push(line);
    out(line);
  };

  const backend = await openDevBackend({ report: say });
  const registry = new Registry();
  for (const handler of [fetchUser, buildProfile, format]) registry.register(handler);
  const workflow = await Workflow.create(backend.broker);
  const worker = await Worker.start(backend.broker, registry, {
    workerId: "worker-1",
    stepHook: workflow.stepHook, // records each step's outcome (and gates its start)
    middleware: [workflow.middleware], // gives step handlers their DAG context
    pullExpiresMs: 1_000, // close() waits for the last pull to expire
  });
  const scheduler = await workflow.startScheduler({ pullExpiresMs: 1_000 }); // starts steps whose inputs are ready
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
    await Promise.all([worker.close(), scheduler.stop()]);
    workflow.close();
    await backend.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
