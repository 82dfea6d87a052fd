/**
 * 03 — fire and forget: `enqueueAsync` publishes a task without a reply and resolves to its id.
 *
 *   npx tsx examples/03-fire-and-forget.ts
 *
 * Enqueues `Audit("login", "alice")` ten times (a handler that returns nothing), logs each task id,
 * waits (at most 5 s) until the worker has run all ten and logs `processed 10 tasks`.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "../src/client/index.js";
import { openDevBackend } from "../src/dev/backend.js";
import { defineHandler, Registry } from "../src/task/index.js";
import { Worker } from "../src/worker/index.js";
import { recorder, runIfMain } from "./run-main.js";

const TASKS = 10;

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);

  let processed = 0;
  const audit = defineHandler("main.Audit", async (_ctx, event: string, user: string): Promise<void> => {
    say(`AUDIT: event=${event} user=${user}`);
    processed++;
  });

  const backend = await openDevBackend({ report: say });
  const registry = new Registry();
  registry.register(audit);
  const worker = await Worker.start(backend.broker, registry);
  const client = await Client.create(backend.broker);
  try {
    for (let i = 0; i < TASKS; i++) {
      const id = await client.enqueueAsync(audit, "login", "alice"); // resolves once the server stored it
      say(`enqueued ${id}`);
    }
    const deadline = Date.now() + 5_000;
    while (processed < TASKS && Date.now() < deadline) await sleep(20);
    if (processed < TASKS) throw new Error(`only ${processed} of ${TASKS} tasks processed within 5 s`);
    say(`processed ${processed} tasks`);
  } finally {
    await client.close();
    await worker.close();
    await backend.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
