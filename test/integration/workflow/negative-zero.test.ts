/**
 * Issue 12: `-0` through a DAG. JSON allows the text `-0` and `JSON.parse` reads it back as `-0`
 * (Go writes it too); the task layer carries it in arguments and results. Here, over both backends:
 * 1. a step result stored as the raw text `-0` (as a Go worker writes it; simulated through the
 *    step hook on a target no worker of the test holds) passes through a ref untouched — alone and
 *    nested — and `await` returns `-0`;
 * 2. the workflow layer's own encodings carried `-0` as `0`: a literal step argument, a
 *    `refOrDefault(-0)` default, and a signal payload.
 */
import { expect, it } from "vitest";
import { defineHandler, TaskError, type Task } from "../../../src/task/index.js";
import { signalRef } from "../../../src/workflow/index.js";
import { describeBackends } from "../../support/backends.js";
import { stepOf } from "../../support/workflow-assert.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";

/** JSON text of `v` with each `-0` shown as the string "-0" (so the probe's result does not depend on how the task layer writes -0). */
function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (Object.is(x, -0) ? "-0" : x));
}

const probe = defineHandler("nz.probe", async (_ctx, v: unknown) => show(v));
const elsewhere = defineHandler("nz.elsewhere", async (_ctx, n: number) => n);
const boom = defineHandler("nz.boom", async (): Promise<number> => {
  throw new TaskError("boom", "no", { retryable: false });
});

describeBackends("workflow: -0 in a DAG", (backend) => {
  const env = useWorkflowEnv(backend);

  it("a raw -0 result passes through refs (alone and nested) and await returns -0", async () => {
    const { workflow, registry, run } = await env();
    registry.register(probe);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", elsewhere, 1).onTarget("go-workers");
    const a2 = dag.step("a2", elsewhere, 2).onTarget("go-workers");
    const b = dag.step("b", probe, a.ref());
    const b2 = dag.step("b2", probe, a2.ref());
    await workflow.submit(dag);
    // A Go worker (none of this test's workers holds the claim) runs a and a2 and writes -0 results.
    for (const [stepId, raw] of [["a", "-0"], ["a2", '{"v":-0,"l":[1,-0]}']] as const) {
      const record = await stepOf(workflow, dag.id, stepId);
      const task: Task = { id: `${dag.id}:${stepId}`, name: elsewhere.name, payload: "[1]", enqueuedAt: record.startedAt!, attempt: 1, dagId: dag.id, stepId, workerId: "go-1" };
      expect(await workflow.stepHook.onStepStart!(task, () => {})).toMatchObject({ run: true });
      expect(await workflow.stepHook.onStepDone(task, raw)).toBe("recorded");
    }
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe('"-0"');
    expect(await workflow.await(b2, { timeoutMs: 10_000 })).toBe('{"v":"-0","l":[1,"-0"]}');
    expect(Object.is(await workflow.await(a, { timeoutMs: 1000 }), -0)).toBe(true);
    expect(await workflow.await(a2, { timeoutMs: 1000 })).toStrictEqual({ v: -0, l: [1, -0] });
  });

  it("a literal -0 argument, a refOrDefault(-0) default and a -0 signal payload reach the handler as -0", async () => {
    const { workflow, registry, run } = await env();
    registry.register(probe);
    registry.register(boom);
    await run();
    const dag = workflow.dag();
    const literal = dag.step("literal", probe, { v: -0, l: [-0] });
    const bare = dag.step("bare", probe, -0);
    const failed = dag.step("failed", boom);
    const fallback = dag.step("fallback", probe, failed.refOrDefault(-0));
    const signaled = dag.step("signaled", probe, signalRef<unknown>("zero"));
    await workflow.submit(dag);
    expect(await workflow.signal(dag.id, "zero", { z: -0 })).toBe(true);
    expect(await workflow.await(literal, { timeoutMs: 10_000 })).toBe('{"v":"-0","l":["-0"]}');
    expect(await workflow.await(bare, { timeoutMs: 10_000 })).toBe('"-0"');
    expect(await workflow.await(fallback, { timeoutMs: 10_000 })).toBe('"-0"');
    expect(await workflow.await(signaled, { timeoutMs: 10_000 })).toBe('{"z":"-0"}');
  });
});
