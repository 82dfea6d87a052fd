/**
 * A step whose upstream results make a task larger than the server carries fails for good
 * (kind payload_too_large) instead of staying running with no task behind it.
 */
import { expect, it } from "vitest";
import { ensureStreams, silentLogger } from "../../../src/broker/index.js";
import { memoryBroker } from "../../../src/memory/index.js";
import { defineHandler, Registry } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { alwaysLeader, Workflow, WorkflowError } from "../../../src/workflow/index.js";

it("refs that would make an oversized task fail the step with payload_too_large; the DAG fails", async () => {
  const broker = memoryBroker({ maxPayloadBytes: 64 * 1024 });
  await ensureStreams(broker);
  const workflow = await Workflow.create(broker, { logger: silentLogger });
  const big = defineHandler("lim.big", async (_ctx, n: number) => "x".repeat(n));
  const join = defineHandler("lim.join", async (_ctx, a: string, b: string) => a.length + b.length);
  const registry = new Registry();
  registry.register(big);
  registry.register(join);
  const worker = await Worker.start(broker, registry, { logger: silentLogger, stepHook: workflow.stepHook, middleware: [workflow.middleware] });
  const scheduler = await workflow.startScheduler({ elector: alwaysLeader });
  try {
    const dag = workflow.dag();
    const a = dag.step("a", big, 30_000);
    const b = dag.step("b", big, 30_000);
    const j = dag.step("j", join, a.ref(), b.ref());
    await workflow.submit(dag);
    const err = await workflow.await(j, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowError);
    expect((err as WorkflowError).code).toBe("step_failed");
    expect((err as Error).message).toMatch(/payload_too_large: the task would be \d+ bytes, more than the 49152 bytes a task may use/);
    for (let i = 0; i < 100 && (await workflow.dagInfo(dag.id)).meta.status === "running"; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await workflow.dagInfo(dag.id)).meta.status).toBe("failed");
  } finally {
    await scheduler.stop();
    await worker.close();
    await broker.close();
  }
});
