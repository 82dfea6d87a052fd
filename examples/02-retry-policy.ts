/**
 * 02 — retry policy: a per-task policy decides how often and how soon a failing task runs again.
 *
 *   npx tsx examples/02-retry-policy.ts
 *
 * `Flaky` fails twice with "transient", then returns `ok after retry-demo`. The task carries its own
 * policy (50 ms doubling to at most 500 ms, 5 attempts, kinds `validation` and `auth` never retried),
 * which overrides the worker's settings (max deliver 10, 10 × 50 ms backoff, ack wait 1 s).
 * @module
 */
import { Client } from "../src/client/index.js";
import { openDevBackend } from "../src/dev/backend.js";
import { defineHandler, Registry } from "../src/task/index.js";
import { Worker } from "../src/worker/index.js";
import { recorder, runIfMain } from "./run-main.js";

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);

  // ctx.attempt is the delivery count: 1 on the first run, 2 on the first retry…
  const flaky = defineHandler("main.Flaky", async (ctx, name: string) => {
    say(`Flaky called, attempt #${ctx.attempt}`);
    if (ctx.attempt < 3) throw new Error("transient"); // an ordinary error: kind "handler", retryable
    return `ok after ${name}`;
  });

  const backend = await openDevBackend({ report: say });
  const registry = new Registry();
  registry.register(flaky);
  const worker = await Worker.start(backend.broker, registry, {
    maxDeliver: 10,
    backoffMs: Array<number>(10).fill(50),
    ackWaitMs: 1_000,
  });
  const client = await Client.create(backend.broker);
  try {
    const future = await client.enqueueWith(
      flaky,
      {
        retryPolicy: {
          initialIntervalMs: 50,
          backoffCoefficient: 2,
          maximumIntervalMs: 500,
          maximumAttempts: 5,
          nonRetryableErrorKinds: ["validation", "auth"],
        },
      },
      "retry-demo",
    );
    const result = await future.result({ timeoutMs: 10_000 });
    const { attempts } = await future.outcome();
    say(`final result: ${result} (after ${attempts} attempts)`);
  } finally {
    await client.close();
    await worker.close();
    await backend.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
