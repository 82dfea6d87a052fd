/**
 * The end-to-end checks the auth suites run against each server: a task enqueued and awaited, a
 * failing task dead-lettered, listed and requeued, a DAG run to done, and the heartbeat thread's own
 * connection opened with the same credentials.
 * @module
 */
import { expect } from "vitest";
import { ensureStreams, silentLogger } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { listDeadLetters, requeueDeadLetter } from "../../../src/dlq/index.js";
import type { NatsHeartbeats } from "../../../src/nats/heartbeats.js";
import type { NatsBroker } from "../../../src/nats/index.js";
import { defineHandler, Registry } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { alwaysLeader, Workflow } from "../../../src/workflow/index.js";

/** Handlers of the scenario. `flaky` fails until {@link flakyFixed} is set. */
export const double = defineHandler("auth.Double", async (_ctx, n: number) => n * 2);
export const add = defineHandler("auth.Add", async (_ctx, a: number, b: number) => a + b);
let flakyFixed = false;
let flakyDone = 0;
export const flaky = defineHandler("auth.Flaky", async (_ctx, n: number) => {
  if (!flakyFixed) throw new Error("flaky: not yet");
  flakyDone++;
  return n + 1;
});

export const broken = defineHandler("auth.Broken", async () => {
  throw new Error("broken for good");
});

/** A registry with the scenario's handlers. */
export function scenarioRegistry(): Registry {
  const registry = new Registry();
  registry.register(double);
  registry.register(add);
  registry.register(flaky);
  registry.register(broken);
  return registry;
}

/** Polls `check` every 20 ms until it returns true, failing with `what` after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What {@link runScenario} did, for the test to check and for ebctl to look up. */
export interface ScenarioResult {
  readonly dagId: string;
  /** Sequence of the dead letter that was requeued (gone from the DLQ afterwards). */
  readonly requeuedSeq: number;
  /** Sequence of a dead letter left in the DLQ (`auth.Broken`). */
  readonly deadSeq: number;
}

/**
 * Everything on one broker: streams, worker (with heartbeats on a thread), client, DLQ, workflow.
 * Closes what it opened except the broker.
 */
export async function runScenario(broker: NatsBroker): Promise<ScenarioResult> {
  flakyFixed = false;
  flakyDone = 0;
  await ensureStreams(broker);
  // The heartbeat thread's connection: the same servers and credentials, opened by the thread.
  const heartbeats = broker.startHeartbeats({ everyMs: 1000, logger: silentLogger }) as NatsHeartbeats | undefined;
  expect(heartbeats).toBeDefined();
  try {
    expect(await heartbeats!.ready).toBe(true);
  } finally {
    await heartbeats!.close();
  }

  const workflow = await Workflow.create(broker, { logger: silentLogger });
  const worker = await Worker.start(broker, scenarioRegistry(), {
    logger: silentLogger,
    pullExpiresMs: 1000,
    stepHook: workflow.stepHook,
    middleware: [workflow.middleware],
  });
  const scheduler = await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });
  const client = await Client.create(broker, { logger: silentLogger });
  try {
    // Task queue.
    const future = await client.enqueue(double, 21);
    expect(await future.result({ timeoutMs: 10_000 })).toBe(42);

    // Dead letter, listed, requeued, run again.
    const failing = await client.enqueueWith(flaky, { retryPolicy: { maximumAttempts: 1 } }, 1);
    await expect(failing.result({ timeoutMs: 10_000 })).rejects.toThrow("flaky: not yet");
    let letters = await listDeadLetters(broker);
    await until(async () => (letters = await listDeadLetters(broker)).some((l) => l.entry?.task.id === failing.id), "the dead letter");
    const letter = letters.find((l) => l.entry?.task.id === failing.id)!;
    flakyFixed = true;
    const requeued = await requeueDeadLetter(broker, letter.seq);
    expect(requeued.taskId).toBe(failing.id);
    await until(async () => !(await listDeadLetters(broker)).some((l) => l.seq === letter.seq), "the requeued entry to leave the DLQ");
    await until(() => flakyDone === 1, "the requeued task to run");
    const left = await client.enqueueWith(broken, { retryPolicy: { maximumAttempts: 1 } });
    await expect(left.result({ timeoutMs: 10_000 })).rejects.toThrow("broken for good");
    let deadSeq = 0;
    await until(async () => {
      deadSeq = (await listDeadLetters(broker)).find((l) => l.entry?.task.id === left.id)?.seq ?? 0;
      return deadSeq > 0;
    }, "the second dead letter");

    // A DAG run to done.
    const dag = workflow.dag();
    const a = dag.step("a", double, 5);
    const b = dag.step("b", add, a.ref(), 1);
    await workflow.submit(dag);
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(11);
    expect((await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status).toBe("done");
    return { dagId: dag.id, requeuedSeq: letter.seq, deadSeq };
  } finally {
    await client.close();
    await scheduler.stop();
    await worker.close();
    workflow.close();
  }
}
