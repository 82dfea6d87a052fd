/**
 * 01 — basic: register a handler, enqueue it, await its typed result.
 *
 *   npx tsx examples/01-basic.ts
 *
 * Uses NATS_URL, an embedded nats-server or the memory backend, runs a worker and a client in this process,
 * enqueues Greet("world", true) and logs `result: hello world!`.
 * @module
 */
import { Client } from "../src/client/index.js";
import { openDevBackend } from "../src/dev/backend.js";
import { defineHandler, Registry } from "../src/task/index.js";
import { Worker } from "../src/worker/index.js";
import { recorder, runIfMain } from "./run-main.js";

/** The handler: plain async function, context first. Producers enqueue it by reference. */
export const greet = defineHandler("main.Greet", async (_ctx, name: string, excited: boolean) => {
  return `hello ${name}${excited ? "!" : ""}`;
});

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);

  const backend = await openDevBackend({ report: say });
  const registry = new Registry();
  registry.register(greet);
  const worker = await Worker.start(backend.broker, registry, { concurrency: 4 });
  const client = await Client.create(backend.broker);
  try {
    const future = await client.enqueue(greet, "world", true); // arguments checked against greet's
    const text: string = await future.result({ timeoutMs: 10_000 });
    say(`result: ${text}`);
  } finally {
    await client.close();
    await worker.close();
    await backend.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
