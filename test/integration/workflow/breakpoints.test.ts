/**
 * Breakpoints over both backends: reference §3.19, §6.13, §6.15 (TestBreakpoint_E2E_*), §7 items
 * 99–115, with issue 11's decisions (a label no step declares is refused with `invalid`; a declared
 * label that stops nothing now releases 0).
 *
 * Events are read from the `EBIND_DAG_EVENTS` stream itself: with no scheduler consuming (submit
 * alone), or with schedulers whose consumers are stopped and which the test feeds every event of
 * the stream by hand (so the stream keeps them to be counted).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { silentLogger, TASK_STREAM, type Broker } from "../../../src/broker/index.js";
import { defineHandler } from "../../../src/task/index.js";
import { decodeDagEvent } from "../../../src/workflow/model/codec.js";
import { alwaysLeader, dagContext, Workflow, type Scheduler } from "../../../src/workflow/index.js";
import { describeBackends, useCleanups } from "../../support/backends.js";
import { eventually } from "../../support/queue.js";
import { rejection, stepOf, thrown } from "../../support/workflow-assert.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { EVENTS_STREAM, streamEvents } from "../../support/workflow-events.js";
import { add, concat, countedHandler, double, echoValue, failNumber, slowValue } from "../../support/handlers/workflow.js";

async function untilBlocked(workflow: Workflow, dagId: string, stepId: string, position: "before" | "after"): Promise<void> {
  await eventually(
    async () => (await workflow.listBreakpoints(dagId)).some((b) => b.stepId === stepId && b.position === position && b.state === "blocked"),
    `${stepId}/${position} blocked`,
  );
}

/**
 * Feeds every event of the stream after `cursor.seq` to each scheduler (at once: they race), until
 * `until` holds. The schedulers' consumers are stopped, so the stream keeps every event.
 */
async function pump(broker: Broker, schedulers: readonly Scheduler[], cursor: { seq: number }, until: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await until())) {
    if (Date.now() > deadline) throw new Error(`timed out pumping events until: ${what}`);
    const state = await broker.streamState(EVENTS_STREAM);
    for (let seq = cursor.seq + 1; state && seq <= state.lastSeq; seq++) {
      cursor.seq = seq;
      const msg = await broker.getMessage(EVENTS_STREAM, seq);
      if (!msg) continue;
      const event = decodeDagEvent(msg.data);
      const settled = await Promise.allSettled(schedulers.map((s) => s.handleEvent(event)));
      // A scheduler that lost a race gives the event back; handle it again as a redelivery would.
      for (const [i, r] of settled.entries()) if (r.status === "rejected") await schedulers[i]!.handleEvent(event);
    }
    await sleep(20);
  }
}

describeBackends("workflow: breakpoints", (backend) => {
  const env = useWorkflowEnv(backend);
  const cleanups = useCleanups();

  /** Counts its runs per `<dag>/<step>` in `runs`, returns n. */
  const { counted, runs } = countedHandler<number>("bp.counted");

  it("an armed before-breakpoint stops its step after its deps: pending, marked blocked, the DAG running; resumeBreakpoint releases it (§7.99, §7.109, §7.113, E2E_Before)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [add, double, concat]) registry.register(h);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", add, 2, 3);
    const b = dag.step("b", double, a.ref()).breakBefore("X");
    const c = dag.step("c", concat, "result", b.ref());
    await workflow.submit(dag, { breakpoints: ["X"] });
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe(5);
    await eventually(async () => (await stepOf(workflow, dag.id, "b")).bpBefore === "blocked", "b marked blocked");
    await sleep(300); // time in which a started b would have run
    const info = await workflow.dagInfo(dag.id);
    expect(info.meta.status).toBe("running");
    const bRec = info.steps.find((s) => s.stepId === "b")!;
    expect(bRec).toMatchObject({ status: "pending", bpBefore: "blocked" });
    expect(bRec.startedAt).toBeUndefined();
    expect(bRec.bpBlockedAt).toBeInstanceOf(Date);
    expect(bRec.waitingOn).toEqual({ deps: [], afterBreakpoints: [], held: false, breakpoint: true, signals: [] });
    expect(info.steps.find((s) => s.stepId === "c")).toMatchObject({ status: "pending", waitingOn: { deps: ["b"], breakpoint: false } });
    expect(await workflow.listBreakpoints(dag.id)).toEqual([{ stepId: "b", position: "before", labels: ["X"], armed: true, state: "blocked", blockedSince: bRec.bpBlockedAt }]);

    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    expect(await workflow.await(c, { timeoutMs: 10_000 })).toBe("result:10");
    await untilStatus(dag.id, "done");
    // A finished DAG shows no blocked breakpoint; the release is still shown.
    expect(await workflow.listBreakpoints(dag.id)).toEqual([{ stepId: "b", position: "before", labels: ["X"], armed: true, state: "released" }]);
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(0);
    expect((await rejection(workflow.resumeBreakpoint("no-such-dag", "X"))).code).toBe("dag_not_found");
    expect((await rejection(workflow.listBreakpoints("no-such-dag"))).code).toBe("dag_not_found");
  });

  it("without armed labels (or with labels no step declares) the same DAG runs straight through (§7.100, §7.114)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [add, double, concat]) registry.register(h);
    await run();
    const ids: string[] = [];
    for (const breakpoints of [undefined, ["Z"]]) {
      const dag = workflow.dag();
      const a = dag.step("a", add, 2, 3);
      const b = dag.step("b", double, a.ref()).breakBefore("X");
      dag.step("c", concat, "result", b.ref()).breakAfter("X");
      await workflow.submit(dag, { breakpoints });
      ids.push(dag.id);
    }
    for (const id of ids) {
      expect(await workflow.awaitById(id, "c", { timeoutMs: 10_000 })).toBe("result:10");
      await untilStatus(id, "done");
      expect(await workflow.listBreakpoints(id)).toEqual([
        { stepId: "b", position: "before", labels: ["X"], armed: false },
        { stepId: "c", position: "after", labels: ["X"], armed: false },
      ]);
      const steps = (await workflow.dagInfo(id)).steps;
      expect(steps.every((s) => s.bpBefore === undefined && s.bpAfter === undefined)).toBe(true);
    }
  });

  it("an armed root is not started by submit, which publishes bp_hit itself (no scheduler); [X, Y] armed via Y is released via X; one bp_resumed per release (§7.101, §7.105, §7.106, §7.112)", async () => {
    const { broker, workflow, registry, run, untilStatus } = await env();
    registry.register(echoValue);
    const dag = workflow.dag();
    const a = dag.step("a", echoValue, "a").breakBefore("X", "Y");
    dag.step("free", echoValue, "free");
    await workflow.submit(dag, { breakpoints: ["Y"] });

    const events = await streamEvents(broker, dag.id);
    expect(events.map((e) => e.subject)).toEqual([`DAG.${dag.id}.bp_hit.a`]);
    expect(events[0]!.body).toEqual({ kind: "bp_hit", dag_id: dag.id, step_id: "a", bp_position: "before", bp_labels: ["X", "Y"] });
    expect((await broker.streamState(TASK_STREAM))?.messages).toBe(1); // free's task only
    expect(await stepOf(workflow, dag.id, "a")).toMatchObject({ status: "pending", bpBefore: "blocked" });
    expect((await stepOf(workflow, dag.id, "free")).status).toBe("running");

    expect((await rejection(workflow.resumeBreakpoint(dag.id, "nope"))).message).toContain('"nope"');
    expect((await rejection(workflow.resumeBreakpoint(dag.id, "nope"))).code).toBe("invalid");
    expect((await rejection(workflow.resumeBreakpoint(dag.id, ""))).code).toBe("invalid");
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1); // X is not armed, but is one of the breakpoint's labels
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(0);
    expect(await workflow.resumeBreakpoint(dag.id, "Y")).toBe(0);
    const after = await streamEvents(broker, dag.id);
    const resumed = after.filter((e) => e.body.kind === "bp_resumed");
    expect(resumed.map((e) => e.subject)).toEqual([`DAG.${dag.id}.bp_resumed.a`]);
    expect(resumed[0]!.body).toEqual({ kind: "bp_resumed", dag_id: dag.id, step_id: "a", bp_position: "before", bp_labels: ["X"] });
    expect(after.filter((e) => e.body.kind === "bp_hit")).toHaveLength(1);
    const released = await stepOf(workflow, dag.id, "a");
    expect(released).toMatchObject({ status: "pending", bpBefore: "released" });
    expect(released.bpBlockedAt).toBeUndefined();

    await run(); // the scheduler picks up the `resumed` events and starts a
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe("a");
    await untilStatus(dag.id, "done");
  });

  it("an armed after-breakpoint: the step's result is readable, its dependents wait, a parallel branch runs on; release → dependents run (§7.102, §7.113, E2E_After)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [add, double, slowValue, echoValue]) registry.register(h);
    await run({ concurrency: 4 });
    const dag = workflow.dag();
    const a = dag.step("a", add, 1, 2).breakAfter("X");
    const b = dag.step("b", double, a.ref());
    const z = dag.step("z", slowValue, 300, "z");
    const y = dag.step("y", echoValue, z.ref());
    await workflow.submit(dag, { breakpoints: ["X"] });
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe(3);
    expect(await workflow.await(y, { timeoutMs: 10_000 })).toBe("z"); // z and y ran while a holds
    await eventually(async () => (await stepOf(workflow, dag.id, "a")).bpAfter === "blocked", "a marked holding");
    const info = await workflow.dagInfo(dag.id);
    expect(info.meta.status).toBe("running");
    const aRec = info.steps.find((s) => s.stepId === "a")!;
    expect(aRec.status).toBe("done");
    expect(info.steps.find((s) => s.stepId === "b")).toMatchObject({
      status: "pending",
      waitingOn: { deps: [], afterBreakpoints: ["a"], held: false, breakpoint: false, signals: [] },
    });
    expect(await workflow.listBreakpoints(dag.id)).toEqual([
      { stepId: "a", position: "after", labels: ["X"], armed: true, state: "blocked", blockedSince: aRec.bpBlockedAt, holding: ["b"] },
    ]);
    expect(aRec.bpBlockedAt).toBeInstanceOf(Date);
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(6);
    await untilStatus(dag.id, "done");
  });

  it("an after-breakpoint on a step that fails holds nothing: its dependents cascade-skip and the DAG fails (§7.103)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [failNumber, double]) registry.register(h);
    await run();
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    const a = dag.step("a", failNumber, "no").breakAfter("X");
    const b = dag.step("b", double, a.ref());
    await workflow.submit(dag, { breakpoints: ["X"] });
    expect((await rejection(workflow.await(b, { timeoutMs: 10_000 }))).code).toBe("step_skipped");
    await untilStatus(dag.id, "failed");
    const bps = await workflow.listBreakpoints(dag.id);
    expect(bps).toEqual([{ stepId: "a", position: "after", labels: ["X"], armed: true }]);
    expect((await stepOf(workflow, dag.id, "a")).bpAfter).toBeUndefined();
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(0);
  });

  it("resumeBreakpoint releases every stop with the label (2 → 2) and they run once; a repeat returns 0 and starts nothing more (§7.104, §7.106)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [counted, slowValue]) registry.register(h);
    await run({ concurrency: 4 });
    const dag = workflow.dag();
    const a = dag.step("a", counted, 1);
    const b1 = dag.step("b1", counted, a.ref()).breakBefore("X");
    const b2 = dag.step("b2", counted, a.ref()).breakBefore("other", "X");
    const tail = dag.step("tail", slowValue, 600, "tail").after(b1, b2);
    await workflow.submit(dag, { breakpoints: ["X"] });
    await untilBlocked(workflow, dag.id, "b1", "before");
    await untilBlocked(workflow, dag.id, "b2", "before");
    expect(runs.get(`${dag.id}/b1`)).toBeUndefined();
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(2);
    expect(await workflow.await(b1, { timeoutMs: 10_000 })).toBe(1);
    expect(await workflow.await(b2, { timeoutMs: 10_000 })).toBe(1);
    expect((await workflow.dagInfo(dag.id)).meta.status).toBe("running"); // tail still runs
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(0);
    expect(await workflow.resumeBreakpoint(dag.id, "other")).toBe(0);
    expect(await workflow.await(tail, { timeoutMs: 10_000 })).toBe("tail");
    await untilStatus(dag.id, "done");
    await sleep(200);
    expect([runs.get(`${dag.id}/a`), runs.get(`${dag.id}/b1`), runs.get(`${dag.id}/b2`)]).toEqual([1, 1, 1]);
  });

  it("resumeBreakpoint releases only stops reached now: a step whose deps still run is not released and stops when they finish", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [slowValue, counted]) registry.register(h);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", slowValue, 700, "a");
    const b = dag.step("b", counted, 5).after(a).breakBefore("X");
    await workflow.submit(dag, { breakpoints: ["X"] });
    await eventually(async () => (await stepOf(workflow, dag.id, "a")).status === "running", "a runs");
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(0);
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe("a");
    await untilBlocked(workflow, dag.id, "b", "before");
    await sleep(200);
    expect(runs.get(`${dag.id}/b`)).toBeUndefined();
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(5);
    await untilStatus(dag.id, "done");
  });

  it("the label stays armed after a release: a dynamic step carrying it blocks again (§7.107, E2E_DynamicStep)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const spawner = defineHandler("bp.spawner", async (ctx) => {
      await dagContext(ctx)!.addStepWith("child", { breakBefore: ["X"] }, echoValue, 42);
      return "spawned";
    });
    for (const h of [spawner, echoValue]) registry.register(h);
    await run();
    const dag = workflow.dag();
    dag.step("p", spawner).breakBefore("X");
    await workflow.submit(dag, { breakpoints: ["X"] });
    await untilBlocked(workflow, dag.id, "p", "before");
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    expect(await workflow.awaitById(dag.id, "p", { timeoutMs: 10_000 })).toBe("spawned");
    await untilBlocked(workflow, dag.id, "child", "before");
    await eventually(async () => (await stepOf(workflow, dag.id, "child")).bpBefore === "blocked", "child marked blocked");
    await sleep(200);
    expect(await stepOf(workflow, dag.id, "child")).toMatchObject({ status: "pending", waitingOn: { breakpoint: true } });
    expect((await workflow.dagInfo(dag.id)).meta.status).toBe("running");
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    expect(await workflow.awaitById(dag.id, "child", { timeoutMs: 10_000 })).toBe(42);
    await untilStatus(dag.id, "done");
  });

  it("a step with breakBefore(X) and breakAfter(X) stops twice: before running, then after completing (§7.108)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [counted, double]) registry.register(h);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", counted, 7).breakBefore("X").breakAfter("X");
    const b = dag.step("b", double, a.ref());
    await workflow.submit(dag, { breakpoints: ["X"] });
    await untilBlocked(workflow, dag.id, "a", "before");
    await sleep(200);
    expect(runs.get(`${dag.id}/a`)).toBeUndefined();
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe(7);
    await untilBlocked(workflow, dag.id, "a", "after");
    expect(await workflow.listBreakpoints(dag.id)).toMatchObject([
      { stepId: "a", position: "before", state: "released" },
      { stepId: "a", position: "after", state: "blocked", holding: ["b"] },
    ]);
    expect((await stepOf(workflow, dag.id, "b")).status).toBe("pending");
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(14);
    await untilStatus(dag.id, "done");
    expect(runs.get(`${dag.id}/a`)).toBe(1);
  });

  it("exactly one bp_hit per stop and one bp_resumed per release, with two schedulers racing on every event (§7.112, TestBPEvents_HitAndResumed_FullCycle)", async () => {
    const { broker, workflow, registry, startWorker, startScheduler } = await env();
    for (const h of [add, double]) registry.register(h);
    await startWorker();
    const s1 = await startScheduler();
    await s1.stop();
    const other = await Workflow.create(broker, { logger: silentLogger });
    cleanups.push(async () => other.close());
    const s2 = await other.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });
    await s2.stop();
    const cursor = { seq: (await broker.streamState(EVENTS_STREAM))?.lastSeq ?? 0 };

    const dag = workflow.dag();
    const a = dag.step("a", add, 1, 2).breakAfter("X");
    const b = dag.step("b", double, a.ref()).breakBefore("X");
    dag.step("c", double, b.ref());
    await workflow.submit(dag, { breakpoints: ["X"] });
    const schedulers = [s1, s2];
    await pump(broker, schedulers, cursor, async () => (await stepOf(workflow, dag.id, "a")).bpAfter === "blocked", "a holding");
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    await pump(broker, schedulers, cursor, async () => (await stepOf(workflow, dag.id, "b")).bpBefore === "blocked", "b blocked");
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    await pump(broker, schedulers, cursor, async () => (await workflow.dagInfo(dag.id)).meta.status === "done", "DAG done");
    expect(await workflow.awaitById(dag.id, "c")).toBe(12);

    const events = await streamEvents(broker, dag.id);
    const pick = (kind: string): unknown[] =>
      events.filter((e) => e.body.kind === kind).map((e) => ({ subject: e.subject, step: e.body.step_id, position: e.body.bp_position, labels: e.body.bp_labels }));
    expect(pick("bp_hit")).toEqual([
      { subject: `DAG.${dag.id}.bp_hit.a`, step: "a", position: "after", labels: ["X"] },
      { subject: `DAG.${dag.id}.bp_hit.b`, step: "b", position: "before", labels: ["X"] },
    ]);
    expect(pick("bp_resumed")).toEqual([
      { subject: `DAG.${dag.id}.bp_resumed.a`, step: "a", position: "after", labels: ["X"] },
      { subject: `DAG.${dag.id}.bp_resumed.b`, step: "b", position: "before", labels: ["X"] },
    ]);
  });

  it("a blocked breakpoint survives a restart of worker and scheduler and is resumed from a new process (§7.115, E2E_DurableAcrossRestart)", async () => {
    const { workflow, registry, run, otherProcess } = await env();
    for (const h of [add, double]) registry.register(h);
    const first = await run();
    const dag = workflow.dag();
    const a = dag.step("a", add, 1, 2);
    const b = dag.step("b", double, a.ref()).breakBefore("X");
    await workflow.submit(dag, { breakpoints: ["X"] });
    await eventually(async () => (await stepOf(workflow, dag.id, "b")).bpBefore === "blocked", "b marked blocked");
    await first.worker.close();
    await first.scheduler.stop();
    workflow.close();

    const other = await otherProcess();
    const fresh = other.workflow;
    expect(await fresh.listBreakpoints(dag.id)).toMatchObject([{ stepId: "b", position: "before", armed: true, state: "blocked" }]);
    await other.startWorker();
    await other.startScheduler();
    await sleep(300);
    expect((await stepOf(fresh, dag.id, "b")).status).toBe("pending"); // the restart released nothing
    expect(await fresh.resumeBreakpoint(dag.id, "X")).toBe(1);
    expect(await fresh.await(b, { timeoutMs: 10_000 })).toBe(6);
    await fresh.awaitDag(dag.id, { timeoutMs: 10_000 });
  });

  it("pause/resume does not release a breakpoint; resumeBreakpoint during a pause persists but releases no hold (§7.111, E2E_PauseInterplay)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [add, double]) registry.register(h);
    await run();
    const dag = workflow.dag();
    const a = dag.step("a", add, 1, 2);
    const b = dag.step("b", double, a.ref()).breakBefore("X");
    await workflow.submit(dag, { breakpoints: ["X"] });
    await workflow.await(a, { timeoutMs: 10_000 });
    await untilBlocked(workflow, dag.id, "b", "before");

    expect(await workflow.pause(dag.id)).toBe("paused");
    expect(await stepOf(workflow, dag.id, "b")).toMatchObject({ held: true, waitingOn: { held: true, breakpoint: true } });
    expect(await workflow.resume(dag.id)).toBe("running");
    await sleep(400);
    expect(await stepOf(workflow, dag.id, "b")).toMatchObject({ status: "pending", held: false, waitingOn: { held: false, breakpoint: true } });
    expect(await workflow.listBreakpoints(dag.id)).toMatchObject([{ stepId: "b", state: "blocked" }]);

    expect(await workflow.pause(dag.id)).toBe("paused");
    expect(await workflow.resumeBreakpoint(dag.id, "X")).toBe(1);
    await sleep(400);
    expect(await stepOf(workflow, dag.id, "b")).toMatchObject({ status: "pending", held: true, bpBefore: "released", waitingOn: { held: true, breakpoint: false } });
    expect((await workflow.dagInfo(dag.id)).meta.status).toBe("paused");
    expect(await workflow.resume(dag.id)).toBe("running");
    expect(await workflow.await(b, { timeoutMs: 10_000 })).toBe(6);
    await untilStatus(dag.id, "done");
  });

  it("bad labels are refused with invalid: breakBefore()/breakAfter() with none or an empty one, an empty armed label at submit (nothing persisted) (§7.114)", async () => {
    const { workflow, registry } = await env();
    registry.register(echoValue);
    const dag = workflow.dag();
    const s = dag.step("s", echoValue, 1);
    for (const bad of [() => s.breakBefore(), () => s.breakBefore(""), () => s.breakAfter(), () => s.breakAfter("ok", "")]) {
      expect(thrown(bad).code).toBe("invalid");
    }
    expect(thrown(() => s.breakBefore()).message).toContain("at least one label");
    expect(thrown(() => s.breakAfter("")).message).toContain("non-empty");
    for (const breakpoints of [[""], ["X", ""]]) {
      const err = await rejection(workflow.submit(dag, { breakpoints }));
      expect(err.code).toBe("invalid");
      expect(err.message).toContain("non-empty");
    }
    expect((await rejection(workflow.dagInfo(dag.id))).code).toBe("dag_not_found");
    // The refused submit left the builder usable.
    s.breakBefore("X");
    await workflow.submit(dag, { breakpoints: ["X"] });
    expect(await workflow.listBreakpoints(dag.id)).toMatchObject([{ stepId: "s", position: "before", armed: true, state: "blocked" }]);
  });
});
