/**
 * Issue 12: a DLQ requeue of a failed DAG step ran the step again but discarded its outcome (the
 * start gate refused it because the DAG was failed): the DAG stayed failed, the dependent never ran,
 * an await still rejected, and the DLQ entry was gone. Over both backends:
 * 1. a requeued step's new outcome counts: the step reopens, the DAG goes back to running, the
 *    skipped dependents run after it, and awaits started after the requeue resolve;
 * 2. a requeue of a step whose DAG was canceled or deleted is refused (`conflict`), the entry kept;
 * 3. a requeue without the workflow's preparation is refused for a step, the entry kept;
 * 4. two requeues racing, or a requeue racing a sweep, run the step once;
 * 5. the failure event of the earlier start, delivered again after the requeue, changes nothing.
 */
import { expect, it } from "vitest";
import { listDeadLetters, requeueDeadLetter, type DeadLetter } from "../../../src/dlq/index.js";
import { defineHandler, EbindError, TaskError } from "../../../src/task/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually } from "../../support/queue.js";
import { rejection, stepOf } from "../../support/workflow-assert.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { double, slowValue } from "../../support/handlers/workflow.js";
import type { DagEvent } from "../../../src/workflow/index.js";

/** A handler that fails for good while `failing` is set, and counts its runs per step. */
function flaky(name: string): { handler: ReturnType<typeof makeHandler>; state: { failing: boolean; runs: Map<string, number> } } {
  const state = { failing: true, runs: new Map<string, number>() };
  return { handler: makeHandler(name, state), state };
}

function makeHandler(name: string, state: { failing: boolean; runs: Map<string, number> }) {
  return defineHandler(name, async (ctx, n: number) => {
    const key = ctx.task.stepId ?? ctx.task.id;
    state.runs.set(key, (state.runs.get(key) ?? 0) + 1);
    if (state.failing) throw new TaskError("boom", `failing ${key}`, { retryable: false });
    return n + 1;
  });
}

/** The DLQ entry of step `stepId` of DAG `dagId`, once it is there. */
async function letterOf(broker: Parameters<typeof listDeadLetters>[0], dagId: string, stepId: string): Promise<DeadLetter> {
  let found: DeadLetter | undefined;
  await eventually(async () => {
    found = (await listDeadLetters(broker, { limit: 0 })).find((l) => l.entry?.task.dagId === dagId && l.entry.task.stepId === stepId);
    return found !== undefined;
  }, `a DLQ entry for ${dagId}/${stepId}`);
  return found!;
}

describeBackends("workflow: DLQ requeue of a failed step", (backend) => {
  const env = useWorkflowEnv(backend);

  it("the requeued step's outcome counts: the DAG leaves failed, the skipped dependent runs, awaits started after the requeue resolve", async () => {
    const { workflow, registry, broker, run } = await env();
    const { handler, state } = flaky("rq.flaky1");
    registry.register(handler);
    registry.register(double);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", handler, 1);
    const b = dag.step("b", double, a.ref());
    await workflow.submit(dag);
    expect((await rejection(workflow.awaitDag(dag.id, { timeoutMs: 10_000 }))).code).toBe("dag_failed");
    expect((await stepOf(workflow, dag.id, "b")).status).toBe("skipped");
    const letter = await letterOf(broker, dag.id, "a");

    state.failing = false;
    await requeueDeadLetter(broker, letter.seq, { prepare: workflow.prepareRequeue });
    // Started after the requeue returned: they wait for the new outcome.
    const dagDone = workflow.awaitDag(dag.id, { timeoutMs: 10_000 });
    const bValue = workflow.await(b, { timeoutMs: 10_000 });
    expect((await dagDone).status).toBe("done");
    expect(await bValue).toBe(4);
    expect(await workflow.await(a, { timeoutMs: 1000 })).toBe(2);
    expect(state.runs.get("a")).toBe(2); // the failed run and the requeued one
    const info = await workflow.dagInfo(dag.id);
    expect(info.steps.map((s) => [s.stepId, s.status])).toEqual([["a", "done"], ["b", "done"]]);
    expect(await listDeadLetters(broker, { limit: 0 })).toEqual([]);
  });

  it("a requeue of a step whose DAG was canceled, or deleted, is refused with conflict; the entry stays", async () => {
    const { workflow, registry, broker, run } = await env();
    const { handler, state } = flaky("rq.flaky2");
    registry.register(handler);
    registry.register(slowValue);
    await run();
    const dag = workflow.dag();
    dag.step("a", handler, 1);
    dag.step("slow", slowValue, 60_000, "v"); // keeps the DAG running
    await workflow.submit(dag);
    const letter = await letterOf(broker, dag.id, "a");
    await workflow.cancel(dag.id);
    state.failing = false;
    const err = await requeueDeadLetter(broker, letter.seq, { prepare: workflow.prepareRequeue }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EbindError);
    expect((err as EbindError).code).toBe("conflict");
    expect((err as Error).message).toMatch(/canceled/);
    await workflow.deleteDag(dag.id);
    const err2 = await requeueDeadLetter(broker, letter.seq, { prepare: workflow.prepareRequeue }).catch((e: unknown) => e);
    expect((err2 as EbindError).code).toBe("conflict");
    expect((err2 as Error).message).toMatch(/deleted/);
    expect((await listDeadLetters(broker, { limit: 0 })).map((l) => l.seq)).toContain(letter.seq);
    expect(state.runs.get("a")).toBe(1);
  });

  it("a requeue of a step without the workflow's preparation is refused, naming it; the entry stays", async () => {
    const { workflow, registry, broker, run } = await env();
    const { handler } = flaky("rq.flaky3");
    registry.register(handler);
    await run();
    const dag = workflow.dag();
    dag.step("a", handler, 1);
    await workflow.submit(dag);
    const letter = await letterOf(broker, dag.id, "a");
    const err = await requeueDeadLetter(broker, letter.seq).catch((e: unknown) => e);
    expect((err as EbindError).code).toBe("invalid_argument");
    expect((err as Error).message).toMatch(/prepare: workflow\.prepareRequeue/);
    expect((await listDeadLetters(broker, { limit: 0 })).map((l) => l.seq)).toContain(letter.seq);
  });

  it("two requeues racing, and a requeue racing a sweep, run the step once", async () => {
    const { workflow, registry, broker, run } = await env();
    const { handler, state } = flaky("rq.flaky4");
    registry.register(handler);
    registry.register(double);
    const { scheduler } = await run();
    const dag = workflow.dag();
    const a = dag.step("a", handler, 1);
    dag.step("b", double, a.ref());
    await workflow.submit(dag);
    await rejection(workflow.awaitDag(dag.id, { timeoutMs: 10_000 }));
    const letter = await letterOf(broker, dag.id, "a");
    state.failing = false;
    const outcomes = await Promise.allSettled([
      requeueDeadLetter(broker, letter.seq, { prepare: workflow.prepareRequeue }),
      requeueDeadLetter(broker, letter.seq, { prepare: workflow.prepareRequeue }),
      scheduler.sweepNow(),
    ]);
    const requeues = outcomes.slice(0, 2);
    expect(requeues.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const lost = requeues.find((o) => o.status === "rejected");
    expect((lost?.reason as EbindError).code).toBe("conflict");
    expect((await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status).toBe("done");
    await scheduler.sweepNow();
    expect(state.runs.get("a")).toBe(2);
    expect((await stepOf(workflow, dag.id, "a")).attempt).toBe(1);
  });

  it("the failure event of the earlier start, delivered again after the requeue, does not skip the dependents again", async () => {
    const { workflow, registry, broker, run } = await env();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let failing = true;
    const gated = defineHandler("rq.gated", async (_ctx, n: number) => {
      if (failing) throw new TaskError("boom", "first start fails", { retryable: false });
      await released;
      return n + 1;
    });
    registry.register(gated);
    registry.register(double);
    const { scheduler } = await run();
    const dag = workflow.dag();
    const a = dag.step("a", gated, 1);
    const b = dag.step("b", double, a.ref());
    await workflow.submit(dag);
    await rejection(workflow.awaitDag(dag.id, { timeoutMs: 10_000 }));
    const first = await stepOf(workflow, dag.id, "a");
    const letter = await letterOf(broker, dag.id, "a");
    failing = false;
    await requeueDeadLetter(broker, letter.seq, { prepare: workflow.prepareRequeue });
    await eventually(async () => (await stepOf(workflow, dag.id, "a")).attempt === 1, "the requeued run to start");
    const stale: DagEvent = { kind: "completed", dagId: dag.id, stepId: "a", status: "failed", errorKind: "boom", errorMessage: "first start fails", stepAddedAt: first.addedAt, stepStartedAt: first.startedAt };
    try {
      await scheduler.handleEvent(stale);
      expect((await stepOf(workflow, dag.id, "b")).status).toBe("pending");
    } finally {
      release();
    }
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(4);
    expect((await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status).toBe("done");
  });
});
