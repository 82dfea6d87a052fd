/**
 * What a lost event leaves behind, and the sweep that repairs it (reference §8.3 items 6, 10, 11,
 * 13, 17, improved), over both backends; plus cancel, await, labels and delete (§7 items 85–87,
 * 135–140).
 */
import { expect, it } from "vitest";
import { TASK_STREAM } from "../../../src/broker/index.js";
import { decodeTask, defineHandler, encodeTask, ErrKind, TaskError } from "../../../src/task/index.js";
import { listDeadLetters } from "../../../src/dlq/index.js";
import type { WorkflowError } from "../../../src/workflow/index.js";
import { describeBackends } from "../../support/backends.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { eventually } from "../../support/queue.js";
import { add, double, echoValue, fail, slowValue } from "../../support/handlers/workflow.js";

const EVENTS = "EBIND_DAG_EVENTS";


describeBackends("workflow: repair, cancel, await, labels, delete", (backend) => {
  const env = useWorkflowEnv(backend);

  it("lost events: the sweep starts the ready step, applies the cascade, and finalises", async () => {
    const { broker, workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    for (const h of [add, double, fail]) registry.register(h);
    await startWorker(); // no scheduler yet: every completion event is "lost"
    const ok = workflow.dag();
    const a = ok.step("a", add, 2, 3);
    const b = ok.step("b", double, a.ref());
    const bad = workflow.dag({ retry: { maximumAttempts: 1 } });
    const f = bad.step("f", fail, "x");
    bad.step("g", double, 1).after(f);
    await workflow.submit(ok);
    await workflow.submit(bad);
    await workflow.await(a, { timeoutMs: 5000 });
    await workflow.await(f, { timeoutMs: 5000 }).catch(() => undefined);
    await broker.purgeStream(EVENTS);
    const scheduler = await startScheduler({ sweepCheckIntervalMs: 50 });
    expect(await workflow.await(b, { timeoutMs: 5000 })).toBe(10);
    await untilStatus(ok.id, "done");
    await untilStatus(bad.id, "failed");
    expect((await workflow.dagInfo(bad.id)).steps.find((s) => s.stepId === "g")?.status).toBe("skipped");
    await scheduler.stop();
  });

  it("a step marked running whose task is gone is published again by the sweep", async () => {
    const { broker, workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    registry.register(add);
    const dag = workflow.dag();
    const a = dag.step("a", add, 20, 22);
    await workflow.submit(dag); // the root is running, its task in the stream
    await broker.purgeStream(TASK_STREAM); // ... and now lost
    await startWorker();
    await startScheduler({ sweepCheckIntervalMs: 50, strandedAfterMs: 0 });
    expect(await workflow.await(a, { timeoutMs: 5000 })).toBe(42);
    await untilStatus(dag.id, "done");
  });

  it("a DAG deleted and re-created under the same pinned id runs its roots (the dedupe window does not swallow them)", async () => {
    const { workflow, registry, run } = await env();
    registry.register(add);
    await run();
    const id = `again-${Date.now()}`;
    const first = workflow.dag({ id });
    const a1 = first.step("a", add, 1, 1);
    await workflow.submit(first);
    expect(await workflow.await(a1, { timeoutMs: 5000 })).toBe(2);
    await workflow.deleteDag(id);
    const second = workflow.dag({ id });
    const a2 = second.step("a", add, 2, 2);
    await new Promise((r) => setTimeout(r, 2)); // a new creation time, hence a new message id
    await workflow.submit(second);
    expect(await workflow.await(a2, { timeoutMs: 5000 })).toBe(4);
  });

  it("a step task of a DAG that does not exist is dead-lettered with its bytes, not dropped (issue 12 fuzzing)", async () => {
    const { broker, registry, run } = await env();
    registry.register(add);
    await run();
    const body = encodeTask({ id: "ghost:a", name: "wf.add", payload: "[1,2]", enqueuedAt: new Date(), attempt: 0, dagId: "ghost", stepId: "a" });
    await broker.publish("TASKS.wf.add", new TextEncoder().encode(body), { msgId: "ghost-a" });
    await eventually(async () => (await listDeadLetters(broker)).length === 1, "a DLQ entry for the ghost step");
    const [letter] = await listDeadLetters(broker);
    expect(letter?.entry?.task.id).toBe("ghost:a");
    expect(letter?.entry?.error.message).toMatch(/step "a" of DAG "ghost" does not exist/);
    expect(decodeTask(letter!.entry!.raw!.data).dagId).toBe("ghost");
  });

  it("a step task of no DAG whose deadline has passed is dead-lettered too, not dropped (issue 12 fuzzing, CI seed -757714243)", async () => {
    const { broker, registry, run } = await env();
    registry.register(add);
    await run();
    const body = encodeTask({ id: "ghost2:s", name: "wf.add", payload: "[1,2]", enqueuedAt: new Date(Date.now() - 30_000), deadline: new Date(Date.now() - 60_000), attempt: 0, dagId: "ghost2", stepId: "s" });
    await broker.publish("TASKS.wf.add", new TextEncoder().encode(body), { msgId: "ghost2-s" });
    await eventually(async () => (await listDeadLetters(broker)).length === 1, "a DLQ entry for the ghost step");
    const [letter] = await listDeadLetters(broker);
    expect(letter?.entry?.task.id).toBe("ghost2:s");
    expect(letter?.entry?.error.message).toMatch(/step "s" of DAG "ghost2" does not exist; it failed with deadline/);
  });

  it("an outcome for a step that is already terminal, or whose DAG was deleted, changes nothing and does not throw", async () => {
    const { workflow, registry, run } = await env();
    registry.register(add);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", add, 1, 2);
    await workflow.submit(dag);
    expect(await workflow.await(a, { timeoutMs: 5000 })).toBe(3);
    const task = { id: `${dag.id}:a`, name: "wf.add", payload: "[1,2]", enqueuedAt: new Date(), attempt: 2, dagId: dag.id, stepId: "a", workerId: "late" };
    await workflow.stepHook.onStepFailed(task, new TaskError(ErrKind.Handler, "late failure"));
    await workflow.stepHook.onStepDone(task, "999");
    const record = (await workflow.dagInfo(dag.id)).steps[0]!;
    expect(record.status).toBe("done");
    expect(record.workerId).not.toBe("late");
    expect(await workflow.awaitById(dag.id, "a")).toBe(3);
    await workflow.deleteDag(dag.id);
    await expect(workflow.stepHook.onStepDone(task, "1")).resolves.toBe("superseded");
    await expect(workflow.stepHook.onStepFailed(task, new TaskError(ErrKind.Handler, "x"))).resolves.toBe("unknown");
  });

  it("cancel while a root runs: the root's handler is aborted and canceled, its after-dependent is canceled, the DAG stays canceled (§7.85 changed by issue 11, §7.87)", async () => {
    const { workflow, registry, run } = await env();
    registry.register(slowValue);
    const { worker } = await run();
    const dag = workflow.dag();
    const long = dag.step("long", slowValue, 3000, "long-finished");
    const after = dag.step("after", slowValue, 1, "never").after(long);
    await workflow.submit(dag);
    await eventually(async () => worker.active === 1, "the root running");
    expect(await workflow.cancel(dag.id)).toBe(true);
    // ebind lets a running step finish and stores its value; ours aborts its signal (slowValue
    // honours it) and records the step canceled.
    expect(((await workflow.await(long, { timeoutMs: 5000 }).catch((e: unknown) => e)) as WorkflowError).code).toBe("step_canceled");
    await eventually(async () => worker.active === 0, "the aborted handler returned");
    const err = await workflow.await(after, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect((err as WorkflowError).code).toBe("step_canceled");
    expect((await workflow.dagInfo(dag.id)).steps.find((s) => s.stepId === "long")).toMatchObject({ status: "canceled", errorKind: "canceled" });
    await new Promise((r) => setTimeout(r, 100));
    expect((await workflow.dagInfo(dag.id)).meta.status).toBe("canceled");
  });

  it("cancel of a finished DAG changes nothing; of an unknown one is dag_not_found (§7.86)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    registry.register(add);
    await run();
    const dag = workflow.dag();
    dag.step("a", add, 1, 1);
    await workflow.submit(dag);
    await untilStatus(dag.id, "done");
    expect(await workflow.cancel(dag.id)).toBe(false);
    expect((await workflow.dagInfo(dag.id)).meta.status).toBe("done");
    await expect(workflow.cancel("no-such-dag")).rejects.toMatchObject({ code: "dag_not_found" });
  });

  it("awaitById: results now and later, failures, timeouts, and unknown ids at once (§7.135, §7.136)", async () => {
    const { workflow, registry, run } = await env();
    for (const h of [slowValue, fail, echoValue]) registry.register(h);
    await run();
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    dag.step("now", echoValue, "hello");
    dag.step("later", slowValue, 200, "late");
    dag.step("bad", fail, "nope");
    await workflow.submit(dag);
    expect(await workflow.awaitById(dag.id, "later", { timeoutMs: 5000 })).toBe("late");
    expect(await workflow.awaitById(dag.id, "now")).toBe("hello"); // already written: at once
    await expect(workflow.awaitById(dag.id, "bad", { timeoutMs: 5000 })).rejects.toMatchObject({ code: "step_failed" });
    await expect(workflow.awaitById("no-such-dag", "x")).rejects.toMatchObject({ code: "dag_not_found" });
    await expect(workflow.awaitById(dag.id, "no-such-step")).rejects.toMatchObject({ code: "step_not_found" });
    const pending = workflow.dag();
    pending.step("p", slowValue, 2000, "slow");
    await workflow.submit(pending);
    await expect(workflow.awaitById(pending.id, "p", { timeoutMs: 100 })).rejects.toMatchObject({ code: "timeout" });
  });

  it("a second workflow instance (another process's view) awaits a step by id", async () => {
    const { broker, workflow, registry, run } = await env();
    registry.register(add);
    await run();
    const dag = workflow.dag();
    dag.step("a", add, 5, 7);
    await workflow.submit(dag);
    const { Workflow } = await import("../../../src/workflow/index.js");
    const other = await Workflow.create(broker);
    expect(await other.awaitById<number>(dag.id, "a", { timeoutMs: 5000 })).toBe(12);
  });

  it("listDagsByLabels matches all labels, newest first; deleteDag removes every record (§7.139, §7.140)", async () => {
    const { workflow, registry } = await env();
    registry.register(add);
    const tag = `t${Date.now()}`;
    const make = async (labels: string[]): Promise<string> => {
      const dag = workflow.dag({ labels: [tag, ...labels] });
      dag.step("a", add, 1, 1);
      await workflow.submit(dag);
      await new Promise((r) => setTimeout(r, 3));
      return dag.id;
    };
    const d1 = await make(["billing", "nightly"]);
    const d2 = await make(["billing"]);
    const d3 = await make(["reports"]);
    const ids = async (...labels: string[]): Promise<string[]> => (await workflow.listDagsByLabels(tag, ...labels)).map((m) => m.id);
    expect(await ids("billing")).toEqual([d2, d1]);
    expect(await ids("billing", "nightly")).toEqual([d1]);
    expect(await ids("reports")).toEqual([d3]);
    expect(await ids()).toEqual([d3, d2, d1]);
    expect(await ids("unknown")).toEqual([]);
    await workflow.deleteDag(d1);
    await expect(workflow.dagInfo(d1)).rejects.toMatchObject({ code: "dag_not_found" });
    expect(await ids()).toEqual([d3, d2]);
    await workflow.deleteDag("never-existed");
  });

  it("deleteDag and cancel refuse malformed ids: a wildcard must not select other DAGs", async () => {
    const { workflow, registry } = await env();
    registry.register(add);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const dag = workflow.dag();
      dag.step("a", add, 1, 1);
      await workflow.submit(dag);
      ids.push(dag.id);
    }
    for (const bad of ["*", ">", `${ids[0]!}.>`, "", "a b"]) {
      await expect(workflow.deleteDag(bad)).rejects.toMatchObject({ code: "invalid_argument" });
      await expect(workflow.cancel(bad)).rejects.toMatchObject({ code: "invalid_argument" });
    }
    for (const id of ids) expect((await workflow.dagInfo(id)).meta.id).toBe(id);
    for (const pollMs of [0, -1, Number.NaN]) {
      await expect(workflow.awaitById(ids[0]!, "a", { pollMs })).rejects.toThrow(`workflow: await pollMs must be a number of ms from 10`);
    }
  });

  it("a step of a handler that returns nothing: its result reads as null", async () => {
    const { workflow, registry, run } = await env();
    const quiet = defineHandler("wf.quiet", async () => undefined);
    registry.register(quiet);
    await run();
    const dag = workflow.dag();
    const q = dag.step("q", quiet);
    await workflow.submit(dag);
    expect(await workflow.await(q, { timeoutMs: 5000 })).toBeNull();
  });
});

describeBackends("workflow: what a third new user broke", (backend) => {
  const env = useWorkflowEnv(backend);

  it("a step result too large to store fails the step (payload_too_large) instead of retrying forever", async () => {
    const { broker, workflow, registry, run, untilStatus } = await env();
    const huge = defineHandler("wf.huge", async () => "x".repeat(broker.maxPayloadBytes));
    registry.register(huge);
    registry.register(double);
    await run();
    const dag = workflow.dag();
    const h = dag.step("h", huge);
    dag.step("after", double, 1).after(h);
    await workflow.submit(dag);
    const err = (await workflow.await(h, { timeoutMs: 5000 }).catch((e: unknown) => e)) as WorkflowError;
    expect(err.code).toBe("step_failed");
    expect(err.message).toMatch(/payload_too_large: step result of \d+ bytes is more than the \d+ bytes a step result may use/);
    await untilStatus(dag.id, "failed");
  });

  it("a worker without the workflow hook leaves steps to one that has it", async () => {
    const { workflow, registry, startWorker, startScheduler } = await env();
    registry.register(add);
    await startWorker({ stepHook: undefined, middleware: [], claimRetryDelayMs: 20, workerId: "no-hook" });
    await startWorker({ workerId: "with-hook" });
    await startScheduler();
    const dag = workflow.dag();
    const steps = Array.from({ length: 6 }, (_, i) => dag.step(`s${i}`, add, i, i));
    await workflow.submit(dag);
    for (const [i, s] of steps.entries()) expect(await workflow.await(s, { timeoutMs: 10_000 })).toBe(2 * i);
    expect((await workflow.dagInfo(dag.id)).steps.every((s) => s.workerId === "with-hook")).toBe(true);
  });

  it("refs and after() cannot cross DAGs", async () => {
    const { workflow } = await env();
    const other = workflow.dag();
    const foreign = other.step("a0", add, 1, 1);
    const dag = workflow.dag();
    dag.step("a0", add, 5, 5);
    dag.step("b", double, foreign.ref());
    await expect(workflow.submit(dag)).rejects.toThrow(`workflow: step "b": arg 0 refers to step "a0" of DAG ${other.id}, not of ${dag.id}`);
    expect(() => workflow.dag().step("c", add, 1, 1).after(foreign)).toThrow(/names a step of DAG/);
  });

  it("await rejects odd timeouts and ids, and still returns a result written just before the timeout", async () => {
    const { workflow, registry, run } = await env();
    registry.register(add);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", add, 1, 1);
    await workflow.submit(dag);
    await workflow.await(a, { timeoutMs: 5000 });
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY, 1e12]) {
      await expect(workflow.await(a, { timeoutMs: bad })).rejects.toThrow(/await timeoutMs must be a number of ms/);
    }
    expect(await workflow.await(a, { timeoutMs: 0 })).toBe(2);
    await expect(workflow.dagInfo("")).rejects.toMatchObject({ code: "invalid_argument" });
  });
});

describeBackends("workflow: stored error messages", (backend) => {
  it("a failed step stores its kind and message, cut to maxStepErrorBytes; a negative limit stores the kind only (§7.74)", async () => {
    const { ensureStreams, silentLogger } = await import("../../../src/broker/index.js");
    const { Registry } = await import("../../../src/task/index.js");
    const { Worker } = await import("../../../src/worker/index.js");
    const { Workflow, alwaysLeader } = await import("../../../src/workflow/index.js");
    const broker = await backend.open();
    await ensureStreams(broker);
    const registry = new Registry();
    registry.register(fail);
    const results: Array<[string | undefined, string | undefined]> = [];
    try {
      for (const limit of [16, -1]) {
        const workflow = await Workflow.create(broker, { logger: silentLogger, maxStepErrorBytes: limit });
        const worker = await Worker.start(broker, registry, { logger: silentLogger, pullExpiresMs: 1000, stepHook: workflow.stepHook, middleware: [workflow.middleware] });
        const scheduler = await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });
        const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
        const f = dag.step("f", fail, "x".repeat(1000));
        await workflow.submit(dag);
        await workflow.await(f, { timeoutMs: 5000 }).catch(() => undefined);
        const record = (await workflow.dagInfo(dag.id)).steps[0]!;
        results.push([record.errorKind, record.errorMessage]);
        await scheduler.stop();
        await worker.close();
      }
    } finally {
      await broker.close();
    }
    expect(results).toEqual([
      ["boom", "x".repeat(16) + "…"],
      ["boom", undefined],
    ]);
  });
});
