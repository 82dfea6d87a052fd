/**
 * Cancel as a fence (issue 11, "Cancel, made a real fence first"), over both backends. Each case was
 * first reproduced as a new user found it:
 * - a dependent step started after `cancel()` returned, from a scheduler's pre-cancel snapshot;
 * - a running handler never saw its signal abort and its late value was stored and returned;
 * - a step waiting in its retry backoff kept being retried inside a canceled DAG;
 * - a skipped step did not name the failed dependency that skipped it.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { defineHandler, TaskError } from "../../../src/task/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually } from "../../support/queue.js";
import { rejection } from "../../support/workflow-assert.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { fail, double } from "../../support/handlers/workflow.js";

describeBackends("workflow: cancel is a fence", (backend) => {
  const env = useWorkflowEnv(backend);

  it("cancel racing a step's completion: no dependent starts after cancel() returned (50 trials)", async () => {
    const { workflow, registry, run } = await env();
    const starts = new Map<string, number>(); // dag id → when its dependent's handler started
    const upstream = defineHandler("fence.upstream", async (_ctx, ms: number) => {
      if (ms > 0) await sleep(ms);
      return 1;
    });
    const dependent = defineHandler("fence.dependent", async (ctx, _n: number) => {
      starts.set(ctx.task.dagId!, performance.now());
      await sleep(20, undefined, { signal: ctx.signal }).catch(() => undefined);
      return 2;
    });
    registry.register(upstream);
    registry.register(dependent);
    await run({ concurrency: 8 });
    const late: string[] = [];
    for (let trial = 0; trial < 50; trial++) {
      const dag = workflow.dag();
      const a = dag.step("a", upstream, trial % 4);
      dag.step("b", dependent, a.ref());
      await workflow.submit(dag);
      await sleep(trial % 7);
      const canceled = await workflow.cancel(dag.id);
      const returnedAt = performance.now();
      await sleep(60); // time for a leaked dependent to start
      const startedAt = starts.get(dag.id);
      if (startedAt !== undefined && startedAt > returnedAt) late.push(`trial ${trial}: b started ${(startedAt - returnedAt).toFixed(1)} ms after cancel() returned`);
      const info = await workflow.dagInfo(dag.id);
      if (canceled) {
        expect(info.meta.status).toBe("canceled");
        const b = info.steps.find((s) => s.stepId === "b")!;
        if (b.status === "done") expect(startedAt, `trial ${trial}: b done in a canceled DAG without having started before cancel returned`).toBeLessThan(returnedAt);
      }
    }
    expect(late).toEqual([]);
  });

  it("cancel aborts a running handler's signal with kind canceled; its record says canceled and its late value is ignored", async () => {
    const { workflow, registry, run } = await env();
    let seen: unknown;
    let running = false;
    const stubborn = defineHandler("fence.stubborn", async (ctx) => {
      running = true;
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      seen = ctx.signal.reason;
      await sleep(100); // keeps going after the abort, then returns a value anyway
      return "late value";
    });
    registry.register(stubborn);
    await run();
    const dag = workflow.dag();
    const s = dag.step("s", stubborn);
    await workflow.submit(dag);
    await eventually(() => running, "the handler runs");
    expect(await workflow.cancel(dag.id)).toBe(true);
    expect((await rejection(workflow.await(s, { timeoutMs: 3000 }))).code).toBe("step_canceled");
    await eventually(() => seen !== undefined, "the handler's signal aborts", 5000);
    expect(seen).toBeInstanceOf(TaskError);
    expect((seen as TaskError).kind).toBe("canceled");
    await sleep(300); // the late value has come back by now
    const record = (await workflow.dagInfo(dag.id)).steps.find((r) => r.stepId === "s")!;
    expect(record).toMatchObject({ status: "canceled", errorKind: "canceled" });
    expect((await rejection(workflow.awaitById(dag.id, "s", { timeoutMs: 3000 }))).code).toBe("step_canceled");
  });

  it("cancel during a retry backoff: the handler is not run again, the step is canceled and awaits reject at once", async () => {
    const { workflow, registry, run } = await env();
    let calls = 0;
    const flaky = defineHandler("fence.flaky", async () => {
      calls++;
      throw new TaskError("transient", "try again", { retryable: true });
    });
    registry.register(flaky);
    await run();
    const dag = workflow.dag({ retry: { initialIntervalMs: 1500, backoffCoefficient: 1, maximumAttempts: 5 } });
    const f = dag.step("f", flaky);
    await workflow.submit(dag);
    await eventually(() => calls === 1, "the first attempt fails");
    expect(await workflow.cancel(dag.id)).toBe(true);
    expect((await rejection(workflow.await(f, { timeoutMs: 1000 }))).code).toBe("step_canceled");
    await sleep(2500); // past the backoff: a retry would have run by now
    expect(calls).toBe(1);
    expect((await workflow.dagInfo(dag.id)).steps[0]).toMatchObject({ status: "canceled" });
  });

  it("a skipped step's record and await name the failed dependency that skipped it", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    registry.register(fail);
    registry.register(double);
    await run();
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    const a = dag.step("a", fail, "kaboom");
    const b = dag.step("b", double, 1).after(a);
    const c = dag.step("c", double, 2).after(b);
    await workflow.submit(dag);
    await untilStatus(dag.id, "failed");
    const steps = new Map((await workflow.dagInfo(dag.id)).steps.map((s) => [s.stepId, s]));
    expect(steps.get("b")).toMatchObject({ status: "skipped" });
    expect(steps.get("b")!.errorMessage).toContain('"a" failed');
    expect(steps.get("c")!.errorMessage).toContain('"b" was skipped');
    expect((await rejection(workflow.await(b, { timeoutMs: 3000 }))).message).toContain('"a" failed');
    expect((await rejection(workflow.await(c, { timeoutMs: 3000 }))).message).toContain('"b" was skipped');
  });

  it("deleteDag aborts the running handlers of the DAG; a DAG re-created under the same id is not aborted by its predecessor's delete", async () => {
    const { workflow, registry, run } = await env();
    const seen: string[] = [];
    let running = 0;
    const waiter = defineHandler("fence.waiter", async (ctx, tag: string) => {
      running++;
      try {
        await sleep(1500, undefined, { signal: ctx.signal });
        return `${tag}: finished`;
      } catch {
        seen.push(`${tag}: ${(ctx.signal.reason as TaskError).detail}`);
        return `${tag}: aborted`;
      } finally {
        running--;
      }
    });
    registry.register(waiter);
    await run({ concurrency: 4 });
    const id = `redo-${Date.now()}`;
    const first = workflow.dag({ id });
    first.step("w", waiter, "first");
    await workflow.submit(first);
    await eventually(() => running === 1, "the first run's handler runs");
    await workflow.deleteDag(id);
    await eventually(() => seen.length === 1, "the deleted DAG's handler aborted", 5000);
    expect(seen).toEqual([`first: DAG ${id} was deleted`]);
    // Re-created at once: the delete reported late (or early) must not reach the new run.
    await eventually(() => running === 0, "the aborted handler returned");
    const second = workflow.dag({ id });
    const w2 = second.step("w", waiter, "second");
    await workflow.submit(second);
    expect(await workflow.await(w2, { timeoutMs: 10_000 })).toBe("second: finished");
    expect(seen).toHaveLength(1);
  });
});
