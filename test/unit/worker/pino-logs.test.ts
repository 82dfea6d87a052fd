/**
 * A pino logger passed as is (issue 17), on the memory backend: a task handed back by a worker
 * without its handler, then run to failure and dead-lettered by one that has it, and a DAG step
 * failing into the DLQ. Every line is pino's JSON; every line about the task carries task_id, name
 * and attempt, and dag_id/step_id for the step.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ensureStreams, TASK_PREFIX, type Broker } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { listDeadLetters } from "../../../src/dlq/index.js";
import { memoryBroker } from "../../../src/memory/index.js";
import { defineHandler, encodeTask, Registry, TaskError } from "../../../src/task/index.js";
import { log, Worker } from "../../../src/worker/index.js";
import { alwaysLeader, Workflow } from "../../../src/workflow/index.js";

interface PinoLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

const alwaysFails = defineHandler("logs.alwaysFails", async (_ctx, what: string): Promise<string> => {
  throw new TaskError("transient", `${what} failed`);
});

/** A pino logger at debug writing into `text` (one JSON document per line). */
function capturingPino(): { logger: pino.Logger; text: string[] } {
  const text: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text.push(...String(chunk).split("\n").filter((l) => l !== ""));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, sink), text };
}

/** Each line parsed as JSON (failing the test on one that is not). */
function parsed(text: readonly string[]): PinoLine[] {
  return text.map((line) => {
    let doc: unknown;
    expect(() => (doc = JSON.parse(line)), `not JSON: ${line}`).not.toThrow();
    return doc as PinoLine;
  });
}

/** The lines that name the task anywhere (message or fields). */
function about(lines: readonly PinoLine[], taskId: string): PinoLine[] {
  return lines.filter((l) => JSON.stringify(l).includes(taskId));
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check(), what).toBe(true);
}

describe("a pino logger passed as is", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function backend(): Promise<Broker> {
    const broker = memoryBroker();
    cleanups.push(() => broker.close());
    await ensureStreams(broker);
    return broker;
  }

  it("gets task_id, name and attempt on every line about a task handed back, failed and dead-lettered", async () => {
    const { logger, text } = capturingPino();
    const broker = await backend();
    const client = await Client.create(broker, { logger });
    cleanups.push(() => client.close());

    // A worker without the handler hands the task back, logging why.
    const without = await Worker.start(broker, new Registry(), { logger, claimRetryDelayMs: 10 });
    cleanups.push(() => without.close());
    const future = await client.enqueueWith(alwaysFails, { retryPolicy: { maximumAttempts: 3, initialIntervalMs: 10 } }, "charge");
    await until(() => text.some((l) => l.includes("handing task")), "the hand-back is logged");
    await without.close();

    // A message that contradicts its subject is dead-lettered as it is, with the task it carries.
    const stray = { id: "stray-1", name: "logs.other", payload: "[]", enqueuedAt: new Date(), attempt: 0 };
    await broker.publish(`${TASK_PREFIX}logs.alwaysFails`, new TextEncoder().encode(encodeTask(stray)), { msgId: stray.id });

    const registry = new Registry();
    registry.register(alwaysFails);
    const worker = await Worker.start(broker, registry, { logger, middleware: [log(logger)] });
    cleanups.push(() => worker.close());
    await expect(future.result({ timeoutMs: 10_000 })).rejects.toThrow("charge failed");
    await until(() => text.some((l) => l.includes("stray-1")), "the stray envelope is logged");
    const dead = await listDeadLetters(broker);
    expect(dead.map((d) => d.entry?.task.id).sort()).toEqual([future.id, "stray-1"].sort());

    const lines = parsed(text);
    const mine = about(lines, future.id);
    expect(mine.map((l) => l.msg).filter((m) => m.startsWith("task."))).toEqual(["task.start", "task.error", "task.start", "task.error", "task.start", "task.error"]);
    expect(mine.some((l) => l.msg.includes("handing task") && l.level === 40)).toBe(true);
    for (const line of mine) {
      expect(line, line.msg).toMatchObject({ task_id: future.id, task_name: "logs.alwaysFails", attempt: expect.any(Number) });
      expect(line).not.toHaveProperty("dag_id");
    }
    expect(mine.filter((l) => l.msg === "task.error").map((l) => l.attempt)).toEqual([1, 2, 3]);
    expect(mine.filter((l) => l.msg === "task.error").every((l) => l.error === "transient: charge failed")).toBe(true);
    expect(mine.find((l) => l.msg.includes("handing task"))?.attempt).toBe(1); // a hand-back spends no attempt

    const stray1 = about(lines, "stray-1");
    expect(stray1.map((l) => l.msg)).toEqual(["worker: dead-lettered an invalid envelope"]);
    expect(stray1[0]).toMatchObject({ task_id: "stray-1", task_name: "logs.other", attempt: 1, subject: `${TASK_PREFIX}logs.alwaysFails` });
  });

  it("adds dag_id and step_id on every line about a workflow step's task", async () => {
    const { logger, text } = capturingPino();
    const broker = await backend();
    const workflow = await Workflow.create(broker, { logger });
    cleanups.push(async () => workflow.close());
    const registry = new Registry();
    registry.register(alwaysFails);
    const worker = await Worker.start(broker, registry, { logger, stepHook: workflow.stepHook, middleware: [workflow.middleware, log(logger)] });
    cleanups.push(() => worker.close());
    const scheduler = await workflow.startScheduler({ elector: alwaysLeader });
    cleanups.push(() => scheduler.stop());

    const dag = workflow.dag();
    const step = dag.step("pay", alwaysFails, "pay").retry({ maximumAttempts: 2, initialIntervalMs: 10 });
    await workflow.submit(dag);
    await expect(workflow.await(step, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: "step_failed" });
    const taskId = `${dag.id}:pay`;
    const dead = await listDeadLetters(broker);
    expect(dead.map((d) => d.entry?.task.id)).toEqual([taskId]);

    const mine = about(parsed(text), taskId);
    expect(mine.map((l) => l.msg)).toEqual(["task.start", "task.error", "task.start", "task.error"]);
    for (const line of mine) {
      expect(line, line.msg).toMatchObject({ task_id: taskId, task_name: "logs.alwaysFails", attempt: expect.any(Number), dag_id: dag.id, step_id: "pay" });
    }
    expect(mine.map((l) => l.attempt)).toEqual([1, 1, 2, 2]);
  });
});
