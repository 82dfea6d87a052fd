/**
 * Pause and resume of a DAG, over both backends: reference §3.18, §6.10, §6.15 (TestPauseResume_*),
 * §7 items 88–97, with issue 11's decisions:
 * - once `pause()` returns, no step of the DAG starts until `resume()` (steps added by running
 *   handlers during the drain included);
 * - a DAG whose every step finished while pausing finalizes to done/failed at once (no sweep), and
 *   a later `resume()` returns that status without error;
 * - `pauseByLabels` with a label no DAG carries is `invalid`.
 * The race tests run 50 trials each and assert only properties (what started when, run counts,
 * final statuses), never speed.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, expect, it } from "vitest";
import type { Broker } from "../../../src/broker/index.js";
import { defineHandler, TaskError, type HandlerContext, type Registry } from "../../../src/task/index.js";
import { decodeStepRecord, encodeStepRecord } from "../../../src/workflow/model/codec.js";
import { stepKey } from "../../../src/workflow/model/keys.js";
import { dagContext, DAG_BUCKET, signalRef, WorkflowError, type StepView, type Workflow } from "../../../src/workflow/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually } from "../../support/queue.js";
import { rejection, stepOf } from "../../support/workflow-assert.js";
import { useWorkflowEnv, type WorkflowEnv } from "../../support/workflow-env.js";
import { add, fail } from "../../support/handlers/workflow.js";

/** A sweep check interval no test reaches: whatever happens, happens without a sweep. */
const NO_SWEEP = 3_600_000;

/** Runs `p`; a WorkflowError with one of `codes` becomes its code, anything else is rethrown. */
async function orCode<T>(p: Promise<T>, ...codes: string[]): Promise<T | string> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof WorkflowError && codes.includes(err.code)) return err.code;
    throw err;
  }
}

const keyOf = (dagId: string, stepId: string): string => `${dagId}/${stepId}`;

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    else signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
  });
}

/**
 * Handlers that count their runs per `dag/step`, note when each first started (performance.now()),
 * and — the gated ones — wait until the test opens their gate.
 */
function newHarness() {
  const runs = new Map<string, number>();
  const starts = new Map<string, number>();
  const startWaiters = new Map<string, Array<() => void>>();
  const opens = new Map<string, () => void>();
  const gates = new Map<string, Promise<void>>();
  let allOpen = false;
  const gate = (key: string): Promise<void> => {
    if (allOpen) return Promise.resolve();
    if (!gates.has(key)) gates.set(key, new Promise<void>((resolve) => opens.set(key, resolve)));
    return gates.get(key)!;
  };
  const note = (ctx: HandlerContext): string => {
    const key = keyOf(ctx.task.dagId!, ctx.task.stepId!);
    runs.set(key, (runs.get(key) ?? 0) + 1);
    if (!starts.has(key)) starts.set(key, performance.now());
    for (const wake of startWaiters.get(key)?.splice(0) ?? []) wake();
    return key;
  };
  /** Returns n + 1. */
  const counted = defineHandler("pause.counted", async (ctx, n: number) => {
    note(ctx);
    return n + 1;
  });
  /** Returns its value. */
  const echo = defineHandler("pause.echo", async (ctx, value: unknown) => {
    note(ctx);
    return value;
  });
  const endWaiters = new Map<string, Array<() => void>>();
  const ended = new Set<string>();
  /** Waits `ms` (abortable), returns value. */
  const sleepy = defineHandler("pause.sleepy", async (ctx, ms: number, value: number) => {
    const key = note(ctx);
    if (ms > 0) await sleep(ms, undefined, { signal: ctx.signal });
    ended.add(key);
    for (const wake of endWaiters.get(key)?.splice(0) ?? []) wake();
    return value;
  });
  /** Waits for its gate (or its signal's abort), returns value. */
  const gated = defineHandler("pause.gated", async (ctx, value: number) => {
    const key = note(ctx);
    await Promise.race([gate(key), rejectOnAbort(ctx.signal)]);
    return value;
  });
  /** Waits for its gate, then fails for good. */
  const gatedFail = defineHandler("pause.gatedFail", async (ctx, message: string): Promise<number> => {
    const key = note(ctx);
    await Promise.race([gate(key), rejectOnAbort(ctx.signal)]);
    throw new TaskError("boom", message, { retryable: false });
  });
  /** Waits for its gate, then adds the dynamic step `child` (counted(41)), returns "parent". */
  const parent = defineHandler("pause.parent", async (ctx) => {
    const key = note(ctx);
    await Promise.race([gate(key), rejectOnAbort(ctx.signal)]);
    await dagContext(ctx)!.addStep("child", counted, 41);
    return "parent";
  });
  return {
    handlers: [counted, echo, sleepy, gated, gatedFail, parent] as const,
    counted,
    echo,
    sleepy,
    gated,
    gatedFail,
    parent,
    runs: (dagId: string, stepId: string): number => runs.get(keyOf(dagId, stepId)) ?? 0,
    startOf: (dagId: string, stepId: string): number | undefined => starts.get(keyOf(dagId, stepId)),
    /** Resolves once the step's handler has started. */
    started: (dagId: string, stepId: string): Promise<void> => {
      const key = keyOf(dagId, stepId);
      if (starts.has(key)) return Promise.resolve();
      return new Promise<void>((resolve) => startWaiters.set(key, [...(startWaiters.get(key) ?? []), resolve]));
    },
    /** Resolves once the step's `sleepy` handler is about to return its value. */
    ending: (dagId: string, stepId: string): Promise<void> => {
      const key = keyOf(dagId, stepId);
      if (ended.has(key)) return Promise.resolve();
      return new Promise<void>((resolve) => endWaiters.set(key, [...(endWaiters.get(key) ?? []), resolve]));
    },
    release: (dagId: string, stepId: string): void => {
      const key = keyOf(dagId, stepId);
      void gate(key);
      opens.get(key)?.();
    },
    /** Opens every gate, now and later (after a test, so that no handler keeps its worker from closing). */
    releaseAll: (): void => {
      allOpen = true;
      for (const open of opens.values()) open();
    },
  };
}

type Harness = ReturnType<typeof newHarness>;

async function statusOf(workflow: Workflow, dagId: string): Promise<string> {
  return (await workflow.dagInfo(dagId)).meta.status;
}

/** Asserts the step is pending, held with a hold time, and that dagInfo says it waits on the hold. */
function expectHeld(s: StepView): void {
  expect(s.status, s.stepId).toBe("pending");
  expect(s.held, s.stepId).toBe(true);
  expect(s.heldAt, s.stepId).toBeInstanceOf(Date);
  expect(s.waitingOn?.held, s.stepId).toBe(true);
}

/**
 * Waits 400 ms (time for a wrongly started step to run), then expects that the step has not run,
 * the DAG is still paused and the step is held; returns the step.
 */
async function expectHeldWhilePaused(workflow: Workflow, h: Harness, dagId: string, stepId: string): Promise<StepView> {
  await sleep(400);
  expect(h.runs(dagId, stepId), `${stepId} runs`).toBe(0);
  expect(await statusOf(workflow, dagId)).toBe("paused");
  const s = await stepOf(workflow, dagId, stepId);
  expectHeld(s);
  return s;
}

/** Expects `pause()` or `resume()` of the DAG to reject with `code` naming the DAG and its `status`, leaving its dagInfo as it was. */
async function expectRefused(workflow: Workflow, call: "pause" | "resume", dagId: string, status: string, code: string): Promise<void> {
  const before = JSON.stringify(await workflow.dagInfo(dagId));
  const err = await rejection(call === "pause" ? workflow.pause(dagId) : workflow.resume(dagId));
  expect(err.code).toBe(code);
  expect(err.message).toContain(dagId);
  expect(err.message).toContain(status);
  expect(JSON.stringify(await workflow.dagInfo(dagId))).toBe(before);
}

/**
 * Brings three DAGs to an end and returns `[dagId, status]` of each: one done (`add`), one failed
 * (`fail`, one attempt), one canceled (a step waiting for a signal that never comes).
 */
async function endedDags(workflow: Workflow, h: Harness, untilStatus: WorkflowEnv["untilStatus"]): Promise<Array<[string, string]>> {
  const ok = workflow.dag();
  ok.step("a", add, 1, 2);
  await workflow.submit(ok);
  await untilStatus(ok.id, "done");

  const bad = workflow.dag({ retry: { maximumAttempts: 1 } });
  bad.step("a", fail, "x");
  await workflow.submit(bad);
  await untilStatus(bad.id, "failed");

  const gone = workflow.dag();
  gone.step("a", h.counted, 1).waitForSignal("never");
  await workflow.submit(gone);
  expect(await workflow.cancel(gone.id)).toBe(true);
  return [
    [ok.id, "done"],
    [bad.id, "failed"],
    [gone.id, "canceled"],
  ];
}

/** Submits a → b (a `gated` returning 1, b `counted` of a) and waits until a's handler has started. */
async function submitGatedChain(workflow: Workflow, h: Harness) {
  const dag = workflow.dag();
  const a = dag.step("a", h.gated, 1);
  const b = dag.step("b", h.counted, a.ref());
  await workflow.submit(dag);
  await h.started(dag.id, "a");
  return { dag, a, b };
}

/** Writes `held: true` with `heldAt` on a pending step, as a pause that died half-way leaves it. */
async function writeHold(broker: Broker, dagId: string, stepId: string, heldAt: Date): Promise<void> {
  const kv = await broker.kv(DAG_BUCKET);
  const entry = (await kv.get(stepKey(dagId, stepId)))!;
  const record = decodeStepRecord(entry.value);
  expect(record.status).toBe("pending");
  await kv.update(stepKey(dagId, stepId), new TextEncoder().encode(encodeStepRecord({ ...record, held: true, heldAt })), entry.revision);
}

describeBackends("workflow: pause and resume", (backend) => {
  const env = useWorkflowEnv(backend);
  // Registered after the env's teardown, so it runs before it: a test that failed with a handler
  // still at its gate does not leave its worker waiting for it.
  const harnesses: Harness[] = [];
  afterEach(() => {
    for (const h of harnesses.splice(0)) h.releaseAll();
  });
  /** A new harness, its handlers registered in `registry`; its gates are all opened after the test. */
  const harness = (registry: Registry): Harness => {
    const h = newHarness();
    for (const handler of h.handlers) registry.register(handler);
    harnesses.push(h);
    return h;
  };

  it("pause with nothing running → paused with pausedAt; every pending step held with heldAt and waitingOn.held; resume runs the rest (§7.88, §7.90, §7.92)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const h = harness(registry);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", h.counted, 1).waitForSignal("go");
    const b = dag.step("b", h.counted, a.ref());
    await workflow.submit(dag);
    const before = Date.now();
    expect(await workflow.pause(dag.id)).toBe("paused");
    const info = await workflow.dagInfo(dag.id);
    expect(info.meta.status).toBe("paused");
    expect(info.meta.pausedAt).toBeInstanceOf(Date);
    expect(info.meta.pausedAt!.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(info.steps.map((s) => s.stepId)).toEqual(["a", "b"]);
    for (const s of info.steps) expectHeld(s);

    expect(await workflow.resume(dag.id)).toBe("running");
    const resumed = await workflow.dagInfo(dag.id);
    expect(resumed.meta.status).toBe("running");
    expect(resumed.meta.pausedAt).toBeUndefined();
    for (const s of resumed.steps) {
      expect(s.held, s.stepId).toBe(false);
      expect(s.heldAt, s.stepId).toBeUndefined();
    }
    expect(await workflow.signal(dag.id, "go")).toBe(true);
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(3);
    await untilStatus(dag.id, "done");
    expect([h.runs(dag.id, "a"), h.runs(dag.id, "b")]).toEqual([1, 1]);
  });

  it("a root marked running whose task no worker has started yet is held back by pause: no worker runs it until resume", async () => {
    const { workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    const h = harness(registry);
    await startScheduler();
    const dag = workflow.dag();
    const a = dag.step("a", h.counted, 1);
    const b = dag.step("b", h.counted, a.ref());
    await workflow.submit(dag);
    expect((await stepOf(workflow, dag.id, "a")).status).toBe("running"); // submitted, its task published
    expect(await workflow.pause(dag.id)).toBe("paused");
    expectHeld(await stepOf(workflow, dag.id, "a"));
    expectHeld(await stepOf(workflow, dag.id, "b"));
    await startWorker(); // the task already published reaches it
    await expectHeldWhilePaused(workflow, h, dag.id, "a");

    expect(await workflow.resume(dag.id)).toBe("running");
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(3);
    await untilStatus(dag.id, "done");
    expect([h.runs(dag.id, "a"), h.runs(dag.id, "b")]).toEqual([1, 1]);
  });

  it("pause with a step running → pausing; the step finishes (result persisted and awaitable), nothing new starts, then paused; resume runs the rest (§7.88, §7.91, §7.92)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const h = harness(registry);
    await run({ concurrency: 4 });
    const dag = workflow.dag();
    const a = dag.step("a", h.gated, 5);
    const b = dag.step("b", h.counted, a.ref());
    const c = dag.step("c", h.counted, b.ref());
    const side = dag.step("side", h.counted, 100).after(a);
    await workflow.submit(dag);
    await h.started(dag.id, "a");

    expect(await workflow.pause(dag.id)).toBe("pausing");
    let info = await workflow.dagInfo(dag.id);
    expect(info.meta.status).toBe("pausing");
    expect(info.meta.pausedAt).toBeInstanceOf(Date);
    expect(info.steps.find((s) => s.stepId === "a")!.status).toBe("running");
    for (const id of ["b", "c", "side"]) expectHeld(info.steps.find((s) => s.stepId === id)!);

    h.release(dag.id, "a");
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe(5);
    await untilStatus(dag.id, "paused");
    await sleep(300); // time for a wrongly started step to run
    info = await workflow.dagInfo(dag.id);
    expect(info.meta.status).toBe("paused");
    expect(info.meta.pausedAt).toBeInstanceOf(Date);
    expect(info.steps.find((s) => s.stepId === "a")!.status).toBe("done");
    for (const id of ["b", "c", "side"]) {
      expectHeld(info.steps.find((s) => s.stepId === id)!);
      expect(h.runs(dag.id, id), id).toBe(0);
    }

    expect(await workflow.resume(dag.id)).toBe("running");
    info = await workflow.dagInfo(dag.id);
    expect(info.meta.status).toBe("running");
    expect(info.meta.pausedAt).toBeUndefined();
    expect(info.steps.filter((s) => s.held).map((s) => s.stepId)).toEqual([]);
    expect(await workflow.await(c, { timeoutMs: 10_000 })).toBe(7);
    expect(await workflow.await(side, { timeoutMs: 10_000 })).toBe(101);
    await untilStatus(dag.id, "done");
    for (const id of ["a", "b", "c", "side"]) expect(h.runs(dag.id, id), id).toBe(1);
  });

  it("resume while still pausing → running; the in-flight step's dependents then run and the DAG is done", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const h = harness(registry);
    await run();
    const { dag, b } = await submitGatedChain(workflow, h);
    expect(await workflow.pause(dag.id)).toBe("pausing");
    expect(await workflow.resume(dag.id)).toBe("running");
    const info = await workflow.dagInfo(dag.id);
    expect(info.meta.status).toBe("running");
    expect(info.meta.pausedAt).toBeUndefined();
    expect(info.steps.find((s) => s.stepId === "b")).toMatchObject({ status: "pending", held: false });
    h.release(dag.id, "a");
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(2);
    await untilStatus(dag.id, "done");
    expect([h.runs(dag.id, "a"), h.runs(dag.id, "b")]).toEqual([1, 1]);
  });

  it("pause of a pausing, paused, done, failed or canceled DAG → dag_not_running naming the DAG and its status, nothing changed; unknown DAG → dag_not_found (§7.89)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const h = harness(registry);
    registry.register(add);
    registry.register(fail);
    await run({ concurrency: 4 });

    const { dag: slow } = await submitGatedChain(workflow, h);
    expect(await workflow.pause(slow.id)).toBe("pausing");
    await expectRefused(workflow, "pause", slow.id, "pausing", "dag_not_running");
    h.release(slow.id, "a");
    await untilStatus(slow.id, "paused");
    await expectRefused(workflow, "pause", slow.id, "paused", "dag_not_running");

    for (const [dagId, status] of await endedDags(workflow, h, untilStatus)) await expectRefused(workflow, "pause", dagId, status, "dag_not_running");

    const missing = `missing-${randomUUID()}`;
    expect((await rejection(workflow.pause(missing))).code).toBe("dag_not_found");
    expect((await rejection(workflow.resume(missing))).code).toBe("dag_not_found");
  });

  it("resume of a done, failed or canceled DAG that was never paused → dag_not_paused naming the DAG and its status, nothing changed (§7.93)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const h = harness(registry);
    registry.register(add);
    registry.register(fail);
    await run();
    for (const [dagId, status] of await endedDags(workflow, h, untilStatus)) await expectRefused(workflow, "resume", dagId, status, "dag_not_paused");

    // Canceled while paused: still not resumable.
    const pausedThenCanceled = workflow.dag();
    pausedThenCanceled.step("a", h.counted, 1).waitForSignal("never");
    await workflow.submit(pausedThenCanceled);
    expect(await workflow.pause(pausedThenCanceled.id)).toBe("paused");
    expect(await workflow.cancel(pausedThenCanceled.id)).toBe(true);
    await expectRefused(workflow, "resume", pausedThenCanceled.id, "canceled", "dag_not_paused");
  });

  it("resume of a running DAG releases a leftover hold (repair) and the held step then runs (§7.93)", async () => {
    const { broker, workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    const h = harness(registry);
    await startWorker();
    await startScheduler({ sweepCheckIntervalMs: NO_SWEEP });
    const { dag, b } = await submitGatedChain(workflow, h);
    await writeHold(broker, dag.id, "b", new Date());
    expect(await statusOf(workflow, dag.id)).toBe("running");
    expectHeld(await stepOf(workflow, dag.id, "b"));

    expect(await workflow.resume(dag.id)).toBe("running");
    const released = await stepOf(workflow, dag.id, "b");
    expect(released).toMatchObject({ status: "pending", held: false });
    expect(released.heldAt).toBeUndefined();
    h.release(dag.id, "a");
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(2);
    await untilStatus(dag.id, "done");
    expect(h.runs(dag.id, "b")).toBe(1);
  });

  it("a step added by a running handler after pause() returned is held and runs only after resume (§7.97)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const h = harness(registry);
    await run();
    const dag = workflow.dag();
    dag.step("p", h.parent);
    await workflow.submit(dag);
    await h.started(dag.id, "p");
    expect(await workflow.pause(dag.id)).toBe("pausing");
    h.release(dag.id, "p"); // the handler now adds `child`
    expect(await workflow.awaitById(dag.id, "p", { timeoutMs: 10_000 })).toBe("parent");
    await untilStatus(dag.id, "paused");
    const child = await expectHeldWhilePaused(workflow, h, dag.id, "child");
    expect(child.deps).toEqual(["p"]);

    expect(await workflow.resume(dag.id)).toBe("running");
    expect(await workflow.awaitById(dag.id, "child", { timeoutMs: 10_000 })).toBe(42);
    await untilStatus(dag.id, "done");
    expect(h.runs(dag.id, "child")).toBe(1);
  });

  it("a DAG whose every step finished while pausing is done at once without a sweep; a later resume() returns done", async () => {
    const { workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    const h = harness(registry);
    await startWorker({ concurrency: 4 });
    await startScheduler({ sweepCheckIntervalMs: NO_SWEEP });
    const dag = workflow.dag();
    const a = dag.step("a", h.gated, 1);
    const b = dag.step("b", h.gated, 2);
    await workflow.submit(dag);
    await Promise.all([h.started(dag.id, "a"), h.started(dag.id, "b")]);
    expect(await workflow.pause(dag.id)).toBe("pausing");
    h.release(dag.id, "a");
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe(1);
    await sleep(200);
    expect(await statusOf(workflow, dag.id)).toBe("pausing"); // b still runs
    h.release(dag.id, "b");
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(2);
    await untilStatus(dag.id, "done", 10_000);
    expect((await workflow.awaitDag(dag.id, { timeoutMs: 5000 })).status).toBe("done");
    expect(await workflow.resume(dag.id)).toBe("done");
    expect(await statusOf(workflow, dag.id)).toBe("done");
  });

  it("a DAG whose last step failed while pausing is failed at once without a sweep; a later resume() returns failed", async () => {
    const { workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    const h = harness(registry);
    await startWorker();
    await startScheduler({ sweepCheckIntervalMs: NO_SWEEP });
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    const f = dag.step("f", h.gatedFail, "kaboom");
    await workflow.submit(dag);
    await h.started(dag.id, "f");
    expect(await workflow.pause(dag.id)).toBe("pausing");
    h.release(dag.id, "f");
    expect((await rejection(workflow.await(f, { timeoutMs: 10_000 }))).code).toBe("step_failed");
    await untilStatus(dag.id, "failed", 10_000);
    expect((await rejection(workflow.awaitDag(dag.id, { timeoutMs: 5000 }))).code).toBe("dag_failed");
    expect(await workflow.resume(dag.id)).toBe("failed");
    expect(await statusOf(workflow, dag.id)).toBe("failed");
    expect(h.runs(dag.id, "f")).toBe(1);
  });

  it("a step that failed while the DAG was paused skips its after-dependents on resume; an afterAny dependent runs (§7.95)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const h = harness(registry);
    await run();
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    const a = dag.step("a", h.gatedFail, "no");
    const b = dag.step("b", h.counted, 1).after(a);
    const c = dag.step("c", h.counted, 2).afterAny(a);
    await workflow.submit(dag);
    await h.started(dag.id, "a");
    expect(await workflow.pause(dag.id)).toBe("pausing");
    h.release(dag.id, "a");
    expect((await rejection(workflow.await(a, { timeoutMs: 10_000 }))).code).toBe("step_failed");
    await untilStatus(dag.id, "paused");
    await sleep(200);
    expect(["pending", "skipped"]).toContain((await stepOf(workflow, dag.id, "b")).status);
    expectHeld(await stepOf(workflow, dag.id, "c"));
    expect([h.runs(dag.id, "b"), h.runs(dag.id, "c")]).toEqual([0, 0]);

    expect(await workflow.resume(dag.id)).toBe("running");
    const skipped = await rejection(workflow.await(b, { timeoutMs: 10_000 }));
    expect(skipped.code).toBe("step_skipped");
    expect(await workflow.await(c, { timeoutMs: 10_000 })).toBe(3);
    await untilStatus(dag.id, "failed");
    expect((await stepOf(workflow, dag.id, "b")).status).toBe("skipped");
    expect([h.runs(dag.id, "b"), h.runs(dag.id, "c")]).toEqual([0, 1]);
  });

  it("cancel of a pausing DAG: canceled, the running handler is aborted, nothing else runs, awaits reject step_canceled", async () => {
    const { workflow, registry, run } = await env();
    const h = harness(registry);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", h.gated, 1);
    const b = dag.step("b", h.counted, a.ref());
    const c = dag.step("c", h.counted, b.ref());
    await workflow.submit(dag);
    await h.started(dag.id, "a");
    expect(await workflow.pause(dag.id)).toBe("pausing");
    expect(await workflow.cancel(dag.id)).toBe(true);
    expect(await statusOf(workflow, dag.id)).toBe("canceled");
    for (const s of [a, b, c]) expect((await rejection(workflow.await(s, { timeoutMs: 5000 }))).code, s.id).toBe("step_canceled");
    await sleep(300);
    const info = await workflow.dagInfo(dag.id);
    expect(info.meta.status).toBe("canceled");
    expect(info.steps.map((s) => `${s.stepId}:${s.status}`)).toEqual(["a:canceled", "b:canceled", "c:canceled"]);
    expect(info.steps[0]!.errorKind).toBe("canceled");
    expect([h.runs(dag.id, "a"), h.runs(dag.id, "b"), h.runs(dag.id, "c")]).toEqual([1, 0, 0]);
    expect((await rejection(workflow.resume(dag.id))).code).toBe("dag_not_paused");
  });

  it("a breakpoint released while paused takes effect only after resume", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const h = harness(registry);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", h.counted, 1);
    const b = dag.step("b", h.counted, a.ref()).breakBefore("X");
    await workflow.submit(dag, { breakpoints: ["X"] });
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe(2);
    await eventually(async () => (await stepOf(workflow, dag.id, "b")).waitingOn?.breakpoint === true, "b stops at its breakpoint");
    expect(await workflow.pause(dag.id)).toBe("paused");
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    const held = await expectHeldWhilePaused(workflow, h, dag.id, "b");
    expect(held.bpBefore).toBe("released");
    expect(held.waitingOn?.breakpoint).toBe(false);

    expect(await workflow.resume(dag.id)).toBe("running");
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(3);
    await untilStatus(dag.id, "done");
    expect(h.runs(dag.id, "b")).toBe(1);
  });

  it("a signal delivered while paused takes effect only after resume", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const h = harness(registry);
    await run();
    const dag = workflow.dag();
    const s = dag.step("s", h.echo, signalRef<string>("go"));
    await workflow.submit(dag);
    expect(await workflow.pause(dag.id)).toBe("paused");
    expect(await workflow.signal(dag.id, "go", "hi")).toBe(true);
    const held = await expectHeldWhilePaused(workflow, h, dag.id, "s");
    expect(held.waitingOn?.signals).toEqual([]);

    expect(await workflow.resume(dag.id)).toBe("running");
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toBe("hi");
    await untilStatus(dag.id, "done");
    expect(h.runs(dag.id, "s")).toBe(1);
  });

  it("pauseByLabels/resumeByLabels act only on the DAGs carrying all labels in the right status; an unknown or empty label is invalid", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const h = harness(registry);
    registry.register(add);
    await run();
    const u = randomUUID().slice(0, 8);
    const billing = `billing-${u}`;
    const nightly = `nightly-${u}`;
    const reports = `reports-${u}`;
    const waiting = async (labels: string[]): Promise<string> => {
      const dag = workflow.dag({ labels });
      dag.step("w", h.counted, 1).waitForSignal("go");
      await workflow.submit(dag);
      return dag.id;
    };
    const d1 = await waiting([billing, nightly]);
    const d2 = await waiting([billing]);
    const d3 = await waiting([reports]);
    const finished = workflow.dag({ labels: [billing, nightly] });
    finished.step("a", add, 1, 1);
    await workflow.submit(finished);
    await untilStatus(finished.id, "done");
    const statuses = async (): Promise<string[]> => Promise.all([d1, d2, d3, finished.id].map((id) => statusOf(workflow, id)));

    expect(await workflow.pauseByLabels(billing, nightly)).toEqual([{ dagId: d1, status: "paused" }]);
    expect(await statuses()).toEqual(["paused", "running", "running", "done"]);
    expect(await workflow.pauseByLabels(billing)).toEqual([{ dagId: d2, status: "paused" }]); // d1 is not running
    expect(await statuses()).toEqual(["paused", "paused", "running", "done"]);

    const unknown = `nobody-${u}`;
    for (const attempt of [() => workflow.pauseByLabels(unknown), () => workflow.pauseByLabels(reports, unknown), () => workflow.resumeByLabels(unknown)]) {
      const err = await rejection(attempt());
      expect(err.code).toBe("invalid");
      expect(err.message).toContain(unknown);
    }
    for (const attempt of [() => workflow.pauseByLabels(""), () => workflow.pauseByLabels(reports, ""), () => workflow.resumeByLabels(""), () => workflow.pauseByLabels()]) {
      expect((await rejection(attempt())).code).toBe("invalid");
    }
    expect(await statuses()).toEqual(["paused", "paused", "running", "done"]);

    expect(await workflow.resumeByLabels(billing, nightly)).toEqual([{ dagId: d1, status: "running" }]);
    expect(await statuses()).toEqual(["running", "paused", "running", "done"]);
    expect(await workflow.resumeByLabels(billing)).toEqual([{ dagId: d2, status: "running" }]);
    expect(await statuses()).toEqual(["running", "running", "running", "done"]);
    for (const id of [d1, d2, d3]) expect(await workflow.signal(id, "go")).toBe(true);
    for (const id of [d1, d2, d3]) await untilStatus(id, "done");
    for (const id of [d1, d2, d3]) expect(h.runs(id, "w")).toBe(1);
  });

  it("the sweep releases a hold orphaned under a running DAG once older than orphanedHoldMs and starts the step; a fresh hold is kept", async () => {
    const { broker, workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    const h = harness(registry);
    await startWorker({ concurrency: 4 });
    const first = await startScheduler({ sweepCheckIntervalMs: NO_SWEEP }); // default orphanedHoldMs: 2 min
    const old = await submitGatedChain(workflow, h);
    const fresh = await submitGatedChain(workflow, h);
    await writeHold(broker, old.dag.id, "b", new Date(Date.now() - 10 * 60_000));
    await writeHold(broker, fresh.dag.id, "b", new Date());
    for (const { dag } of [old, fresh]) {
      h.release(dag.id, "a");
      expect(await workflow.awaitById(dag.id, "a", { timeoutMs: 10_000 })).toBe(1);
    }
    await sleep(300); // the completions are handled; the holds keep b
    for (const { dag } of [old, fresh]) {
      expectHeld(await stepOf(workflow, dag.id, "b"));
      expect(h.runs(dag.id, "b")).toBe(0);
      expect(await statusOf(workflow, dag.id)).toBe("running");
    }

    await first.sweepNow();
    expect(await workflow.await(old.b, { timeoutMs: 10_000 })).toBe(2);
    await untilStatus(old.dag.id, "done");
    await sleep(200);
    expectHeld(await stepOf(workflow, fresh.dag.id, "b"));
    expect(h.runs(fresh.dag.id, "b")).toBe(0);

    await first.stop();
    const eager = await startScheduler({ sweepCheckIntervalMs: NO_SWEEP, orphanedHoldMs: 0 });
    await eager.sweepNow();
    expect(await workflow.await(fresh.b, { timeoutMs: 10_000 })).toBe(2);
    await untilStatus(fresh.dag.id, "done");
    expect([h.runs(old.dag.id, "b"), h.runs(fresh.dag.id, "b")]).toEqual([1, 1]);
  });

  it("race: pause around A's completion — B never starts after pause() returned until resume, then runs exactly once (50 trials)", async () => {
    const { workflow, registry, run } = await env();
    const h = harness(registry);
    await run({ concurrency: 8 });
    const late: string[] = [];
    const outcomes = new Map<string, number>();
    for (let trial = 0; trial < 50; trial++) {
      const dag = workflow.dag();
      const a = dag.step("a", h.sleepy, 5, 1);
      const b = dag.step("b", h.counted, a.ref());
      await workflow.submit(dag);
      if (trial % 2 === 0) {
        await h.started(dag.id, "a");
        await sleep(trial % 10); // before, around or after A's completion (A takes 5 ms)
      } else {
        await h.ending(dag.id, "a");
        for (let i = 0; i < trial % 10; i++) await new Promise<void>((resolve) => setImmediate(resolve)); // inside A → B
      }
      const status = await orCode(workflow.pause(dag.id), "dag_not_running");
      const returnedAt = performance.now();
      outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
      if (status === "dag_not_running") {
        expect(await statusOf(workflow, dag.id), `trial ${trial}`).toBe("done"); // finished before the pause
      } else {
        expect(["pausing", "paused", "done"], `trial ${trial}`).toContain(status);
        await sleep(30); // time for a leaked B to start
        const startedAt = h.startOf(dag.id, "b");
        if (startedAt !== undefined && startedAt > returnedAt) late.push(`trial ${trial}: b started ${(startedAt - returnedAt).toFixed(1)} ms after pause() returned ${status}`);
        if (startedAt === undefined) expectHeld(await stepOf(workflow, dag.id, "b"));
        expect(["running", "done"], `trial ${trial}`).toContain(await workflow.resume(dag.id));
      }
      expect((await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status).toBe("done");
      expect(await workflow.await(b, { timeoutMs: 5000 })).toBe(2);
      expect([h.runs(dag.id, "a"), h.runs(dag.id, "b")], `trial ${trial}`).toEqual([1, 1]);
    }
    expect(late).toEqual([]);
    expect([...outcomes.keys()].some((s) => s === "pausing" || s === "paused"), JSON.stringify([...outcomes])).toBe(true);
  });

  it("race: pause while the last running step completes — the DAG ends done without a sweep, each step once; resume() then returns done (50 trials)", async () => {
    const { workflow, registry, startWorker, startScheduler } = await env();
    const h = harness(registry);
    await startWorker({ concurrency: 8 });
    await startScheduler({ sweepCheckIntervalMs: NO_SWEEP });
    for (let trial = 0; trial < 50; trial++) {
      const dag = workflow.dag();
      const a = dag.step("a", h.counted, 1);
      const b = dag.step("b", h.sleepy, trial % 4, 7).after(a);
      await workflow.submit(dag);
      await h.started(dag.id, "b");
      await sleep(trial % 5);
      const status = await orCode(workflow.pause(dag.id), "dag_not_running");
      expect(["pausing", "done", "dag_not_running"], `trial ${trial}`).toContain(status);
      expect((await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status, `trial ${trial}`).toBe("done");
      if (status === "dag_not_running") expect((await rejection(workflow.resume(dag.id))).code).toBe("dag_not_paused");
      else expect(await workflow.resume(dag.id), `trial ${trial}`).toBe("done");
      expect(await statusOf(workflow, dag.id)).toBe("done");
      expect(await workflow.await(b, { timeoutMs: 5000 })).toBe(7);
      expect([h.runs(dag.id, "a"), h.runs(dag.id, "b")], `trial ${trial}`).toEqual([1, 1]);
    }
  });

  it("race: pause and resume in quick succession, in order or concurrently, never lose or duplicate a step (50 trials)", async () => {
    const { workflow, registry, run } = await env();
    const h = harness(registry);
    await run({ concurrency: 8 });
    const ids = ["s0", "s1", "s2", "s3", "p"];
    for (let trial = 0; trial < 50; trial++) {
      const dag = workflow.dag();
      let prev = dag.step("s0", h.counted, 0);
      for (let i = 1; i < 4; i++) prev = dag.step(`s${i}`, h.counted, prev.ref());
      dag.step("p", h.sleepy, trial % 3, 9);
      await workflow.submit(dag);
      await sleep(trial % 6);
      const expected = ["dag_not_running", "dag_not_paused"];
      switch (trial % 3) {
        case 0:
          await orCode(workflow.pause(dag.id), ...expected);
          await orCode(workflow.resume(dag.id), ...expected);
          break;
        case 1:
          await Promise.all([orCode(workflow.pause(dag.id), ...expected), orCode(workflow.resume(dag.id), ...expected)]);
          break;
        default:
          await Promise.all([orCode(workflow.pause(dag.id), ...expected), orCode(workflow.pause(dag.id), ...expected)]);
          await Promise.all([orCode(workflow.resume(dag.id), ...expected), orCode(workflow.resume(dag.id), ...expected)]);
      }
      // Whatever the interleaving left (a pause may have landed last), one more resume must finish the DAG.
      const now = await statusOf(workflow, dag.id);
      if (now === "pausing" || now === "paused") await orCode(workflow.resume(dag.id), "dag_not_paused");
      expect((await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status, `trial ${trial}`).toBe("done");
      expect(await workflow.awaitById(dag.id, "s3", { timeoutMs: 5000 })).toBe(4);
      expect(ids.map((id) => h.runs(dag.id, id)), `trial ${trial}`).toEqual([1, 1, 1, 1, 1]);
    }
  });

  it("race: cancel during pausing — canceled, no step starts after pause() returned, awaits of unfinished steps reject step_canceled (50 trials)", async () => {
    const { workflow, registry, run } = await env();
    const h = harness(registry);
    await run({ concurrency: 8 });
    const late: string[] = [];
    let canceledTrials = 0;
    for (let trial = 0; trial < 50; trial++) {
      const dag = workflow.dag();
      const a = dag.step("a", h.sleepy, 2 + (trial % 5), 1);
      const b = dag.step("b", h.counted, a.ref());
      dag.step("c", h.counted, b.ref());
      await workflow.submit(dag);
      await h.started(dag.id, "a");
      await sleep(trial % 4);
      const status = await orCode(workflow.pause(dag.id), "dag_not_running");
      const pausedAt = performance.now();
      if (status !== "pausing" && status !== "paused") {
        // Everything had finished (pause reported the final status, or refused a done DAG).
        expect((await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status, `trial ${trial}`).toBe("done");
        continue;
      }
      expect(await workflow.cancel(dag.id), `trial ${trial}`).toBe(true);
      canceledTrials++;
      await sleep(30); // time for a leaked step to start
      const info = await workflow.dagInfo(dag.id);
      expect(info.meta.status, `trial ${trial}`).toBe("canceled");
      for (const s of info.steps) {
        const startedAt = h.startOf(dag.id, s.stepId);
        if (startedAt !== undefined && startedAt > pausedAt) late.push(`trial ${trial}: ${s.stepId} started after pause() returned ${status}`);
        if (s.status === "done") {
          expect(startedAt, `trial ${trial}: ${s.stepId} done though it never started`).toBeDefined();
          continue;
        }
        expect(s.status, `trial ${trial}: ${s.stepId}`).toBe("canceled");
        expect((await rejection(workflow.awaitById(dag.id, s.stepId, { timeoutMs: 5000 }))).code, `trial ${trial}: ${s.stepId}`).toBe("step_canceled");
      }
      for (const id of ["a", "b", "c"]) expect(h.runs(dag.id, id), `trial ${trial}: ${id}`).toBeLessThanOrEqual(1);
    }
    expect(late).toEqual([]);
    expect(canceledTrials).toBeGreaterThan(0);
  });
});
