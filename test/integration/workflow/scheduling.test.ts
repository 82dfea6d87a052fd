/**
 * Scheduling and dependency semantics, over both backends: reference §7 items 61–77, §3.12–3.14,
 * §3.22, §3.26.
 */
import { expect, it } from "vitest";
import { defineHandler, TaskError } from "../../../src/task/index.js";
import { dagContext, type WorkflowError } from "../../../src/workflow/index.js";
import { describeBackends } from "../../support/backends.js";
import { rejection } from "../../support/workflow-assert.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { eventually } from "../../support/queue.js";
import { add, concat, double, echoValue, fail, failNumber, fanOut, nothing, slowValue, sum } from "../../support/handlers/workflow.js";

describeBackends("workflow: scheduling", (backend) => {
  const env = useWorkflowEnv(backend);

  it("linear add → double → concat gives result:10, each step after the one before (§7.61)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [add, double, concat]) registry.register(h);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", add, 2, 3);
    const b = dag.step("b", double, a.ref());
    const c = dag.step("c", concat, "result", b.ref());
    await workflow.submit(dag);
    expect(await workflow.await(c, { timeoutMs: 10_000 })).toBe("result:10");
    await untilStatus(dag.id, "done");
    const steps = new Map((await workflow.dagInfo(dag.id)).steps.map((s) => [s.stepId, s]));
    expect(steps.get("b")!.startedAt!.getTime()).toBeGreaterThanOrEqual(steps.get("a")!.finishedAt!.getTime());
    expect(steps.get("c")!.startedAt!.getTime()).toBeGreaterThanOrEqual(steps.get("b")!.finishedAt!.getTime());
  });

  it("two roots run in parallel and a fan-in step waits for both (§7.62)", async () => {
    const { workflow, registry, run } = await env();
    for (const h of [slowValue, concat, sum, add]) registry.register(h);
    await run({ concurrency: 4 });
    const dag = workflow.dag();
    const a = dag.step("a", add, 1, 2);
    const b = dag.step("b", add, 3, 4);
    const c = dag.step("c", sum, a.ref(), b.ref());
    await workflow.submit(dag);
    expect(await workflow.await(c, { timeoutMs: 10_000 })).toBe(10);
  });

  it("a mandatory failure fails the step, skips its dependents transitively, and fails the DAG (§7.63, §7.75)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [fail, double]) registry.register(h);
    await run();
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    const a = dag.step("a", fail, "kaboom");
    const b = dag.step("b", double, a.ref());
    const c = dag.step("c", double, b.ref());
    await workflow.submit(dag);
    const failed = await rejection(workflow.await(a, { timeoutMs: 10_000 }));
    expect(failed.code).toBe("step_failed");
    expect(failed.message).toContain("boom: kaboom");
    expect((await rejection(workflow.await(b, { timeoutMs: 10_000 }))).code).toBe("step_skipped");
    expect((await rejection(workflow.await(c, { timeoutMs: 10_000 }))).code).toBe("step_skipped");
    await untilStatus(dag.id, "failed");
    const record = (await workflow.dagInfo(dag.id)).steps.find((s) => s.stepId === "a")!;
    expect(record).toMatchObject({ status: "failed", errorKind: "boom", errorMessage: "kaboom" });
  });

  it("an optional step that fails feeds refOrDefault(99) and the DAG is done (§7.64)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [failNumber, double]) registry.register(h);
    await run();
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    const a = dag.step("a", failNumber, "no enrichment").optional();
    const d = dag.step("d", double, a.refOrDefault(99));
    await workflow.submit(dag);
    expect(await workflow.await(d, { timeoutMs: 10_000 })).toBe(198);
    await untilStatus(dag.id, "done");
  });

  it("refOrDefault() without a default substitutes null (§7.65)", async () => {
    const { workflow, registry, run } = await env();
    for (const h of [fail, echoValue]) registry.register(h);
    await run();
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    const a = dag.step("a", fail, "x").optional();
    const e = dag.step("e", echoValue, a.refOrDefault());
    await workflow.submit(dag);
    expect(await workflow.await(e, { timeoutMs: 10_000 })).toBeNull();
  });

  it("after(failed) skips; afterAny(failed) runs (§7.66)", async () => {
    const { workflow, registry, run } = await env();
    for (const h of [fail, echoValue]) registry.register(h);
    await run();
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    const a = dag.step("a", fail, "x").optional();
    const strict = dag.step("strict", echoValue, "strict").after(a);
    const lenient = dag.step("lenient", echoValue, "b-done").afterAny(a);
    await workflow.submit(dag);
    expect((await rejection(workflow.await(strict, { timeoutMs: 10_000 }))).code).toBe("step_skipped");
    expect(await workflow.await(lenient, { timeoutMs: 10_000 })).toBe("b-done");
  });

  it("an after-dependent starts strictly after its upstream finished (§7.67)", async () => {
    const { workflow, registry, run } = await env();
    registry.register(slowValue);
    await run({ concurrency: 4 });
    const dag = workflow.dag();
    const a = dag.step("a", slowValue, 150, "a");
    const b = dag.step("b", slowValue, 1, "b").after(a);
    await workflow.submit(dag);
    await workflow.await(b, { timeoutMs: 10_000 });
    const steps = new Map((await workflow.dagInfo(dag.id)).steps.map((s) => [s.stepId, s]));
    expect(steps.get("b")!.startedAt!.getTime()).toBeGreaterThanOrEqual(steps.get("a")!.finishedAt!.getTime());
  });

  it("a failed dep read through refOrDefault does not skip; a failed plain dep does (§7.68)", async () => {
    const { workflow, registry, run } = await env();
    for (const h of [fail, failNumber, sum, add]) registry.register(h);
    await run();
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    const a = dag.step("a", failNumber, "a").optional();
    const ok = dag.step("ok", add, 1, 1);
    const kept = dag.step("kept", sum, a.refOrDefault(5), ok.ref());
    const b = dag.step("b", fail, "b").optional();
    const lost = dag.step("lost", sum, a.refOrDefault(5), b.ref());
    await workflow.submit(dag);
    expect(await workflow.await(kept, { timeoutMs: 10_000 })).toBe(7);
    expect((await rejection(workflow.await(lost, { timeoutMs: 10_000 }))).code).toBe("step_skipped");
  });

  it("a handler adds dynamic steps; the DAG completes them before it is done (§7.69)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [fanOut, double]) registry.register(h);
    await run();
    const dag = workflow.dag();
    dag.step("scan", fanOut, 3);
    await workflow.submit(dag);
    await untilStatus(dag.id, "done");
    const steps = (await workflow.dagInfo(dag.id)).steps;
    expect(steps.map((s) => `${s.stepId}:${s.status}`).sort()).toEqual(["page-0:done", "page-1:done", "page-2:done", "scan:done"]);
    expect(steps.find((s) => s.stepId === "page-2")?.deps).toEqual(["scan"]);
    expect(await workflow.awaitById(dag.id, "page-2")).toBe(4);
  });

  it("a dynamic step's parent failing skips it; re-adding the same id is a no-op; bad refs are refused (§7.70, §7.71)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const seen: string[] = [];
    const parent = defineHandler("wf.dynParent", async (ctx, failAfter: boolean) => {
      const d = dagContext(ctx)!;
      await d.addStep("child", double, 1);
      await d.addStep("child", double, 1); // repeated by a retried handler: no duplicate
      try {
        await d.addStep("orphan", double, d.ref<number>("nope"));
      } catch (err) {
        seen.push((err as Error).message);
      }
      try {
        await d.addStep("wrong", concat, "x", 1);
        await d.addStep("wrong", double, 2);
      } catch (err) {
        seen.push((err as WorkflowError).message);
      }
      if (failAfter) throw new TaskError("parent", "failed after adding", { retryable: false });
      return "ok";
    });
    for (const h of [parent, double, concat]) registry.register(h);
    await run();
    const dag = workflow.dag();
    dag.step("p", parent, true);
    await workflow.submit(dag);
    await untilStatus(dag.id, "failed");
    const steps = new Map((await workflow.dagInfo(dag.id)).steps.map((s) => [s.stepId, s.status]));
    expect(steps.get("child")).toBe("skipped");
    expect(steps.has("orphan")).toBe(false);
    expect(seen).toEqual(['workflow: dynamic step "orphan" references unknown step "nope"', 'workflow: dynamic step "wrong" exists with handler wf.concat, not wf.double']);
  });

  it("adding a dynamic step to a canceled DAG fails with dag_canceled (§7.72)", async () => {
    const { workflow, registry, run } = await env();
    let outcome = "";
    const late = defineHandler("wf.late", async (ctx) => {
      await workflow.cancel(ctx.task.dagId!);
      try {
        await dagContext(ctx)!.addStep("after-cancel", double, 1);
        outcome = "added";
      } catch (err) {
        outcome = (err as WorkflowError).code;
      }
    });
    for (const h of [late, double]) registry.register(h);
    await run();
    const dag = workflow.dag();
    const s = dag.step("s", late);
    await workflow.submit(dag);
    // The cancel also cancels the running step itself (its signal aborts; issue 11).
    await expect(workflow.await(s, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: "step_canceled" });
    await eventually(() => outcome !== "", "the handler tried to add its step");
    expect(outcome).toBe("dag_canceled");
  });

  it("retries inside a DAG: 3 attempts then step_failed; a listed non-retryable kind fails at once (§7.73)", async () => {
    const { workflow, registry, run } = await env();
    let calls = 0;
    const flaky = defineHandler("wf.flaky", async (_ctx, kind: string) => {
      calls++;
      throw new TaskError(kind, "nope");
    });
    registry.register(flaky);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", flaky, "transient").retry({ maximumAttempts: 3, initialIntervalMs: 10 });
    await workflow.submit(dag);
    expect((await rejection(workflow.await(a, { timeoutMs: 10_000 }))).code).toBe("step_failed");
    expect(calls).toBe(3);
    calls = 0;
    const dag2 = workflow.dag();
    const v = dag2.step("v", flaky, "validation").retry({ maximumAttempts: 5, initialIntervalMs: 10, nonRetryableErrorKinds: ["validation"] });
    await workflow.submit(dag2);
    expect((await rejection(workflow.await(v, { timeoutMs: 10_000 }))).code).toBe("step_failed");
    expect(calls).toBe(1);
  });

  it("a step of a handler that returns nothing can be awaited (null) and referenced", async () => {
    const { workflow, registry, run } = await env();
    for (const h of [nothing, echoValue]) registry.register(h);
    await run();
    const dag = workflow.dag();
    const n = dag.step("n", nothing);
    const e = dag.step("e", echoValue, n.ref());
    await workflow.submit(dag);
    expect(await workflow.await(n, { timeoutMs: 10_000 })).toBeNull();
    expect(await workflow.await(e, { timeoutMs: 10_000 })).toBeNull();
  });

  it("completion events go out on DAG.<dag>.completed.<step> (§7.77)", async () => {
    const { broker, workflow, registry, startWorker } = await env();
    registry.register(fail);
    await startWorker(); // no scheduler: the events stay in the stream
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    const a = dag.step("a", fail, "x".repeat(20));
    await workflow.submit(dag);
    await workflow.await(a, { timeoutMs: 10_000 }).catch(() => undefined);
    // The await rejects as soon as the record says failed; the event follows the record.
    await eventually(async () => ((await broker.streamState("EBIND_DAG_EVENTS"))?.messages ?? 0) > 0, "the completed event");
    const state = await broker.streamState("EBIND_DAG_EVENTS");
    const msg = await broker.getMessage("EBIND_DAG_EVENTS", state!.lastSeq);
    expect(msg?.subject).toBe(`DAG.${dag.id}.completed.a`);
    expect(JSON.parse(new TextDecoder().decode(msg!.data))).toEqual({
      kind: "completed",
      dag_id: dag.id,
      step_id: "a",
      status: "failed",
      error_kind: "boom",
      error_message: "x".repeat(20),
      step_added_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), // an extension: which incarnation of the step
      step_started_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), // an extension: which start of it (issue 12)
    });
  });

  it("two schedulers racing run every step once", async () => {
    const { workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    let runs = 0;
    const counted = defineHandler("wf.counted", async (_ctx, n: number) => {
      runs++;
      return n;
    });
    registry.register(counted);
    await startWorker({ concurrency: 8 });
    await startScheduler();
    await startScheduler();
    const dag = workflow.dag();
    const roots = Array.from({ length: 10 }, (_, i) => dag.step(`r${i}`, counted, i));
    for (let i = 0; i < 10; i++) dag.step(`c${i}`, counted, roots[i]!.ref());
    await workflow.submit(dag);
    await untilStatus(dag.id, "done");
    expect(runs).toBe(20);
  });
});
