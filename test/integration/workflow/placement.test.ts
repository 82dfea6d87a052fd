/**
 * Placement of DAG steps over both backends: reference §3.23, §6.15, §7 items 129–134, and issue 11's
 * change: a placement that cannot be resolved when the step is to start fails the step with kind
 * `placement` (ebind strands it running, §8.3 item 10).
 */
import { expect, it } from "vitest";
import { DLQ_STREAM, silentLogger } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { defineHandler, EbindError, TaskError } from "../../../src/task/index.js";
import { claimsFunc, type Worker } from "../../../src/worker/index.js";
import { DagStore } from "../../../src/workflow/store/store.js";
import { DAG_BUCKET, dagContext, WorkflowError } from "../../../src/workflow/index.js";
import { describeBackends, useCleanups } from "../../support/backends.js";
import { eventually } from "../../support/queue.js";
import { rejection, stepOf } from "../../support/workflow-assert.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { echoValue, whereAmI } from "../../support/handlers/workflow.js";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected an error, nothing was thrown");
}

/** Closes workers together (each close waits out a pull); their cleanups then find them closed. */
async function closeAll(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.close()));
}

describeBackends("workflow: placement", (backend) => {
  const env = useWorkflowEnv(backend);
  const cleanups = useCleanups();

  it("onTarget('primary') runs on the claim owner among 6 bystanders: 25 DAGs all on w1, nothing dead-lettered (§7.129)", async () => {
    const { broker, workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    registry.register(whereAmI);
    const workers = [await startWorker({ workerId: "w1", claims: ["primary"], claimRetryDelayMs: 50 })];
    for (let i = 0; i < 6; i++) workers.push(await startWorker({ workerId: `by-${i}`, claimRetryDelayMs: 50 }));
    await startScheduler();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const dag = workflow.dag();
      dag.step("t", whereAmI).onTarget("primary");
      await workflow.submit(dag);
      ids.push(dag.id);
    }
    const ran = await Promise.all(ids.map((id) => workflow.awaitById<string>(id, "t", { timeoutMs: 20_000 })));
    expect(ran).toEqual(ids.map(() => "w1"));
    for (const id of ids) await untilStatus(id, "done");
    expect(await stepOf(workflow, ids[0]!, "t")).toMatchObject({ workerId: "w1", placement: { mode: "direct", target: "primary" } });
    expect((await broker.streamState(DLQ_STREAM))?.messages).toBe(0);
    await closeAll(workers);
  });

  it("a targeted step with a 2-attempt policy that fails once succeeds on its owner in exactly 2 invocations (§7.130)", async () => {
    const { workflow, registry, startWorker, startScheduler } = await env();
    const calls: string[] = [];
    const flakyOnce = defineHandler("place.flakyOnce", async (ctx) => {
      calls.push(ctx.workerId);
      if (calls.length === 1) throw new TaskError("transient", "first try fails", { retryable: true });
      return ctx.workerId;
    });
    registry.register(flakyOnce);
    const workers = [await startWorker({ workerId: "owner", claims: ["primary"], claimRetryDelayMs: 50 })];
    for (let i = 0; i < 4; i++) workers.push(await startWorker({ workerId: `by-${i}`, claimRetryDelayMs: 50 }));
    await startScheduler();
    const dag = workflow.dag();
    const t = dag.step("t", flakyOnce).onTarget("primary").retry({ maximumAttempts: 2, initialIntervalMs: 50 });
    await workflow.submit(dag);
    expect(await workflow.await(t, { timeoutMs: 15_000 })).toBe("owner");
    expect(calls).toEqual(["owner", "owner"]);
    await closeAll(workers);
  });

  it("colocateWith(a) runs on the worker that ran a, and followTargetOf(a) on a's claim's owner at start time, though the claim moved while a ran (§7.131, §7.132)", async () => {
    const { workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let startedOn: string | undefined;
    const held = defineHandler("place.held", async (ctx) => {
      startedOn = ctx.workerId;
      await released;
      return ctx.workerId;
    });
    for (const h of [held, whereAmI]) registry.register(h);
    const owner: Record<string, string[]> = { w1: ["primary"], w2: [] };
    const opts = (id: string) => ({ workerId: id, claims: claimsFunc(() => owner[id]!), claimRefreshIntervalMs: 50, claimRetryDelayMs: 50, concurrency: 4 });
    const w1 = await startWorker(opts("w1"));
    const w2 = await startWorker(opts("w2"));
    await startScheduler();
    const dag = workflow.dag();
    const a = dag.step("a", held).onTarget("primary");
    const b = dag.step("b", whereAmI).colocateWith(a);
    const c = dag.step("c", whereAmI).followTargetOf(a);
    const d = dag.step("d", whereAmI).followTargetOf(b); // b's placement: a's concrete worker
    await workflow.submit(dag);
    await eventually(() => startedOn !== undefined, "a started");
    expect(startedOn).toBe("w1");
    owner.w1 = [];
    owner.w2 = ["primary"];
    await eventually(() => !w1.claims().includes("primary") && w2.claims().includes("primary"), "the claim moved to w2");
    release();
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe("w1");
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe("w1");
    expect(await workflow.await(c, { timeoutMs: 10_000 })).toBe("w2");
    expect(await workflow.await(d, { timeoutMs: 10_000 })).toBe("w1");
    await untilStatus(dag.id, "done");
    const steps = new Map((await workflow.dagInfo(dag.id)).steps.map((s) => [s.stepId, s]));
    expect(steps.get("b")).toMatchObject({ workerId: "w1", deps: ["a"], placement: { mode: "colocate_with", stepId: "a" } });
    expect(steps.get("c")).toMatchObject({ workerId: "w2", deps: ["a"], placement: { mode: "follow_target_of", stepId: "a" } });
    await closeAll([w1, w2]);
  });

  it("a dynamic step with colocateHere runs on the worker that ran the step adding it (§7.133)", async () => {
    const { workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    const parent = defineHandler("place.parent", async (ctx) => {
      await dagContext(ctx)!.addStepWith("child", { colocateHere: true }, whereAmI);
      return ctx.workerId;
    });
    for (const h of [parent, whereAmI]) registry.register(h);
    const workers: Worker[] = [];
    for (const id of ["w1", "w2", "w3"]) workers.push(await startWorker({ workerId: id, concurrency: 2 }));
    await startScheduler();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const dag = workflow.dag();
      dag.step("p", parent);
      await workflow.submit(dag);
      ids.push(dag.id);
    }
    for (const id of ids) {
      await untilStatus(id, "done");
      const p = await workflow.awaitById<string>(id, "p");
      expect(await workflow.awaitById<string>(id, "child")).toBe(p);
      expect(await stepOf(workflow, id, "child")).toMatchObject({ workerId: p, deps: ["p"], placement: { mode: "colocate_with", stepId: "p" } });
    }
    await closeAll(workers);
  });

  it("inside a DAG step ctx.workerId and dagContext(ctx).workerId are the executing worker's id; outside a DAG there is no DAG context (§7.134)", async () => {
    const { broker, workflow, registry, startWorker, startScheduler } = await env();
    const ids = defineHandler("place.ids", async (ctx) => ({ ctx: ctx.workerId, dag: dagContext(ctx)?.workerId ?? "" }));
    registry.register(ids);
    await startWorker({ workerId: "w-ctx" });
    await startScheduler();
    const dag = workflow.dag();
    const s = dag.step("s", ids);
    await workflow.submit(dag);
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toEqual({ ctx: "w-ctx", dag: "w-ctx" });
    const client = await Client.create(broker, { logger: silentLogger });
    cleanups.push(() => client.close());
    const future = await client.enqueue(ids);
    expect(await future.result({ timeoutMs: 10_000 })).toEqual({ ctx: "w-ctx", dag: "" });
  });

  it("placement options are checked when building and submitting: followTargetOf a step without placement is invalid at submit, nothing persisted", async () => {
    const { workflow, registry } = await env();
    registry.register(whereAmI);
    const dag = workflow.dag();
    const a = dag.step("a", whereAmI);
    dag.step("b", whereAmI).followTargetOf(a);
    const err = await rejection(workflow.submit(dag));
    expect(err.code).toBe("invalid");
    expect(err.message).toContain('"b"');
    expect(err.message).toContain('followTargetOf("a")');
    expect((await rejection(workflow.dagInfo(dag.id))).code).toBe("dag_not_found");

    const other = workflow.dag();
    const x = other.step("x", whereAmI).onTarget("gpu");
    const crossDag = thrown(() => x.colocateWith(a)); // a step of another DAG
    expect(crossDag).toBeInstanceOf(EbindError);
    expect((crossDag as EbindError).code).toBe("invalid_argument");
    const twice = thrown(() => x.followTargetOf(other.step("y", whereAmI).onTarget("gpu")));
    expect(twice).toBeInstanceOf(WorkflowError);
    expect((twice as WorkflowError).code).toBe("invalid"); // one placement per step
    expect((thrown(() => other.step("z", whereAmI).onTarget("")) as EbindError).code).toBe("invalid_argument");
  });

  it("a placement that cannot be resolved at start fails the step with kind placement instead of stranding it: a dynamic followTargetOf a step with no placement", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const parent = defineHandler("place.badFollow", async (ctx) => {
      await dagContext(ctx)!.addStepWith("child", { followTargetOf: dagContext(ctx)!.stepId }, whereAmI);
      return "parent";
    });
    for (const h of [parent, whereAmI]) registry.register(h);
    await run();
    const dag = workflow.dag();
    dag.step("p", parent);
    await workflow.submit(dag);
    await untilStatus(dag.id, "failed");
    const err = await rejection(workflow.awaitById(dag.id, "child", { timeoutMs: 5000 }));
    expect(err.code).toBe("step_failed");
    expect(err.message).toContain("placement");
    const child = await stepOf(workflow, dag.id, "child");
    expect(child).toMatchObject({ status: "failed", errorKind: "placement" });
    expect(child.errorMessage).toContain('step "p" has no placement to follow');
    expect(child.startedAt).toBeUndefined(); // never marked running
  });

  it("a placement that cannot be resolved at start fails the step with kind placement: colocateWith a done step whose record names no worker", async () => {
    const { broker, workflow, registry, run, untilStatus } = await env();
    for (const h of [echoValue, whereAmI]) registry.register(h);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", echoValue, "a").breakAfter("X"); // holds b while the test rewrites a
    const b = dag.step("b", whereAmI).colocateWith(a);
    await workflow.submit(dag, { breakpoints: ["X"] });
    await eventually(async () => (await stepOf(workflow, dag.id, "a")).bpAfter === "blocked", "a done and holding");
    // A record written by another writer (a tool, or an older version) that left out worker_id.
    const store = new DagStore(await broker.kv(DAG_BUCKET, { replicas: 1, history: 1 }));
    const current = (await store.getStep(dag.id, "a"))!;
    await store.updateStep({ ...current.value, workerId: undefined }, current.revision);
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    const err = await rejection(workflow.await(b, { timeoutMs: 10_000 }));
    expect(err.code).toBe("step_failed");
    expect(await stepOf(workflow, dag.id, "b")).toMatchObject({ status: "failed", errorKind: "placement" });
    expect((await stepOf(workflow, dag.id, "b")).errorMessage).toContain('step "a" has no worker');
    await untilStatus(dag.id, "failed");
  });
});
