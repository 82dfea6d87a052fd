/**
 * Signals over both backends: reference §3.21, §6.14, §6.15 (TestSignal_E2E_*), §7 items 116–128,
 * and issue 11's additions: `{ early: true }` for a DAG not submitted yet (an unknown DAG is
 * otherwise `dag_not_found`), payloads JSON cannot carry and payloads a signal's schema refuses are
 * `invalid` with nothing written, and durable signal timeouts (`signalTimeoutMs`, kind
 * `signal_timeout`).
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { z } from "zod";
import { defineHandler } from "../../../src/task/index.js";
import { dagContext, defineSignal, signalRef, WorkflowError } from "../../../src/workflow/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually } from "../../support/queue.js";
import { rejection, stepOf, thrown } from "../../support/workflow-assert.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { streamEvents } from "../../support/workflow-events.js";
import { add, countedHandler, echoValue, fail, failNumber, slowValue } from "../../support/handlers/workflow.js";

const b64url = (s: string): string => Buffer.from(s, "utf8").toString("base64url");

interface Approval {
  approver: string;
}

const deploy = defineHandler("sig.deploy", async (_ctx, approval: Approval, build: number) => `${approval.approver} deployed ${build}`);
const pair = defineHandler("sig.pair", async (_ctx, s: string, n: number) => `${s}:${n}`);
const triple = defineHandler("sig.triple", async (_ctx, a: unknown, b: unknown, c: unknown) => [a, b, c]);

describeBackends("workflow: signals", (backend) => {
  const env = useWorkflowEnv(backend);

  /** Counts its runs per `<dag>/<step>` in `runs`, returns its argument. */
  const { counted, runs } = countedHandler<unknown>("sig.counted");

  it("a signalRef step waits after its deps; the signal's payload reaches the handler as its typed argument; listSignals shows awaited then delivered (§7.116, §7.126, E2E_ApprovalFlow)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [add, deploy]) registry.register(h);
    await run();
    const dag = workflow.dag();
    const build = dag.step("build", add, 40, 2);
    const d = dag.step("deploy", deploy, signalRef<Approval>("approval"), build.ref());
    await workflow.submit(dag);
    expect(await workflow.await(build, { timeoutMs: 10_000 })).toBe(42);
    await sleep(300);
    expect(await stepOf(workflow, dag.id, "deploy")).toMatchObject({
      status: "pending",
      deps: ["build"],
      waitSignals: ["approval"],
      waitingOn: { deps: [], afterBreakpoints: [], held: false, breakpoint: false, signals: ["approval"] },
    });
    expect(await workflow.listSignals(dag.id)).toEqual([{ name: "approval", delivered: false, waiting: ["deploy"] }]);

    const before = Date.now();
    expect(await workflow.signal(dag.id, "approval", { approver: "eugene" })).toBe(true);
    expect(await workflow.await(d, { timeoutMs: 10_000 })).toBe("eugene deployed 42");
    await untilStatus(dag.id, "done");
    const signals = await workflow.listSignals(dag.id);
    expect(signals).toEqual([{ name: "approval", delivered: true, deliveredAt: expect.any(Date) as Date, payload: '{"approver":"eugene"}' }]);
    expect(signals[0]!.deliveredAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect((await rejection(workflow.listSignals("no-such-dag"))).code).toBe("dag_not_found");
  });

  it("a duplicate signal returns false and keeps the first payload; each send publishes an event on a 4-token subject, even for 'a.b *>tricky name' (§7.117, §7.125)", async () => {
    const { broker, workflow, registry, run } = await env();
    registry.register(echoValue);
    const name = "a.b *>tricky name";
    const dag = workflow.dag();
    const s = dag.step("s", echoValue, signalRef<unknown>(name));
    await workflow.submit(dag);
    // No scheduler yet: the events stay in the stream to be read.
    expect(await workflow.signal(dag.id, name, { v: "1" })).toBe(true);
    expect(await workflow.signal(dag.id, name, { v: "2" })).toBe(false);
    const events = await streamEvents(broker, dag.id);
    expect(events).toHaveLength(2);
    for (const e of events) {
      expect(e.subject).toBe(`DAG.${dag.id}.signal.${b64url(name)}`);
      expect(e.subject.split(".")).toHaveLength(4);
      expect(e.subject.split(".")[3]).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(e.body).toEqual({ kind: "signal", dag_id: dag.id, step_id: dag.id, signal_name: name });
    }
    expect(await workflow.listSignals(dag.id)).toMatchObject([{ name, delivered: true, payload: '{"v":"1"}' }]);
    await run();
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toEqual({ v: "1" });
  });

  it("waitForSignal('x', 'y') needs both: after x nothing runs; after y it runs exactly once (§7.118)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    registry.register(counted);
    await run();
    const dag = workflow.dag();
    const s = dag.step("s", counted, "ran").waitForSignal("x", "y");
    await workflow.submit(dag);
    expect(await workflow.signal(dag.id, "x", null)).toBe(true);
    await sleep(400);
    expect(runs.get(`${dag.id}/s`)).toBeUndefined();
    expect(await stepOf(workflow, dag.id, "s")).toMatchObject({ status: "pending", waitingOn: { signals: ["y"] } });
    expect(await workflow.listSignals(dag.id)).toMatchObject([
      { name: "x", delivered: true, payload: "null" },
      { name: "y", delivered: false, waiting: ["s"] },
    ]);
    expect(await workflow.signal(dag.id, "y")).toBe(true);
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toBe("ran");
    await untilStatus(dag.id, "done");
    await sleep(200);
    expect(runs.get(`${dag.id}/s`)).toBe(1);
  });

  it("a signal sent before the step that waits for it exists satisfies it: a dynamic step added later (§7.119, E2E_BufferedForDynamicStep)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const spawner = defineHandler("sig.spawner", async (ctx) => {
      await dagContext(ctx)!.addStep("dyn", echoValue, signalRef<unknown>("go"));
      return "spawned";
    });
    for (const h of [spawner, echoValue]) registry.register(h);
    const dag = workflow.dag();
    dag.step("p", spawner);
    await workflow.submit(dag);
    expect(await workflow.signal(dag.id, "go", "ran")).toBe(true); // nothing waits for "go" yet
    expect(await workflow.listSignals(dag.id)).toMatchObject([{ name: "go", delivered: true }]);
    expect((await workflow.listSignals(dag.id))[0]!.waiting).toBeUndefined();
    await run();
    await eventually(async () => (await workflow.dagInfo(dag.id)).steps.some((x) => x.stepId === "dyn"), "the dynamic step exists");
    expect(await workflow.awaitById(dag.id, "dyn", { timeoutMs: 10_000 })).toBe("ran");
    await untilStatus(dag.id, "done");
  });

  it("a signal to a DAG not submitted yet: dag_not_found, unless { early: true }; then the DAG submitted under that pinned id finds it (§7.119, §7.120)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    registry.register(echoValue);
    const id = `early-${randomUUID()}`;
    expect((await rejection(workflow.signal(id, "go", "now"))).code).toBe("dag_not_found");
    expect(await workflow.signal(id, "go", "now", { early: true })).toBe(true);
    expect(await workflow.signal(id, "go", "later", { early: true })).toBe(false);
    await run();
    const dag = workflow.dag({ id });
    const e = dag.step("e", echoValue, signalRef<string>("go"));
    await workflow.submit(dag);
    expect(await workflow.await(e, { timeoutMs: 10_000 })).toBe("now");
    await untilStatus(id, "done");
  });

  it("a DAG deleted and re-created under its pinned id inherits no signal (§3.21, §3.25)", async () => {
    const { workflow, registry, run } = await env();
    registry.register(echoValue);
    await run();
    const id = `again-${randomUUID()}`;
    const first = workflow.dag({ id });
    first.step("s", echoValue, signalRef<string>("go"));
    await workflow.submit(first);
    expect(await workflow.signal(id, "go", "first")).toBe(true);
    await workflow.awaitDag(id, { timeoutMs: 10_000 });
    await workflow.deleteDag(id);
    const second = workflow.dag({ id });
    const s = second.step("s", echoValue, signalRef<string>("go"));
    await workflow.submit(second);
    await sleep(300);
    expect(await workflow.listSignals(id)).toEqual([{ name: "go", delivered: false, waiting: ["s"] }]);
    expect(await workflow.signal(id, "go", "second")).toBe(true);
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toBe("second");
  });

  it("a late event of a deleted DAG's earlier run does not finish the DAG re-created under the same pinned id", async () => {
    const { workflow, registry, startWorker, startScheduler } = await env();
    registry.register(echoValue);
    await startWorker(); // no scheduler yet: the first run's `completed` event waits in the stream
    const id = `stale-${randomUUID()}`;
    const first = workflow.dag({ id });
    first.step("s", echoValue, "first");
    await workflow.submit(first);
    expect(await workflow.awaitById(id, "s", { timeoutMs: 10_000 })).toBe("first");
    await workflow.deleteDag(id);
    const second = workflow.dag({ id });
    const s = second.step("s", echoValue, signalRef<string>("go"));
    await workflow.submit(second);
    await startScheduler(); // handles the first run's event now
    await sleep(500);
    const info = await workflow.dagInfo(id);
    expect(info.steps.map((x) => [x.stepId, x.status])).toEqual([["s", "pending"]]);
    expect(info.meta.status).toBe("running"); // not "done" with a step still pending
    expect(await workflow.signal(id, "go", "second")).toBe(true);
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toBe("second");
  });

  it("a done, failed or canceled DAG: signal returns false and writes nothing; an empty name is invalid (§7.120)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [echoValue, fail, slowValue]) registry.register(h);
    await run();
    const done = workflow.dag();
    done.step("a", echoValue, 1);
    const failed = workflow.dag({ retry: { maximumAttempts: 1 } });
    failed.step("a", fail, "no");
    const canceled = workflow.dag();
    canceled.step("a", slowValue, 5000, "slow");
    canceled.step("w", echoValue, signalRef<unknown>("go"));
    for (const d of [done, failed, canceled]) await workflow.submit(d);
    await untilStatus(done.id, "done");
    await untilStatus(failed.id, "failed");
    expect(await workflow.cancel(canceled.id)).toBe(true);
    for (const d of [done, failed, canceled]) {
      expect(await workflow.signal(d.id, "go", { late: true })).toBe(false);
      expect((await workflow.listSignals(d.id)).filter((s) => s.delivered)).toEqual([]);
    }
    // A finished DAG lists no waiters.
    expect(await workflow.listSignals(canceled.id)).toEqual([{ name: "go", delivered: false }]);
    for (const id of [done.id, "no-such-dag"]) {
      const err = await rejection(workflow.signal(id, "", 1));
      expect(err.code).toBe("invalid");
      expect(err.message).toContain("non-empty");
    }
  });

  it("a payload JSON cannot carry (BigInt, a function, NaN, a cycle) is invalid, naming the problem; nothing is written", async () => {
    const { workflow, registry } = await env();
    registry.register(echoValue);
    const dag = workflow.dag();
    dag.step("s", echoValue, signalRef<unknown>("p"));
    await workflow.submit(dag);
    const cycle: Record<string, unknown> = { x: 1 };
    cycle.self = cycle;
    const cases: Array<[unknown, string[]]> = [
      [{ amount: 10n }, ["payload.amount", "BigInt"]],
      [() => 1, ["payload", "function"]],
      [NaN, ["payload", "NaN"]],
      [cycle, ["payload.self", "cycle"]],
    ];
    for (const [payload, words] of cases) {
      const err = await rejection(workflow.signal(dag.id, "p", payload));
      expect(err.code).toBe("invalid");
      for (const w of words) expect(err.message).toContain(w);
    }
    expect(await workflow.listSignals(dag.id)).toEqual([{ name: "p", delivered: false, waiting: ["s"] }]);
    expect(await workflow.signal(dag.id, "p", { fine: [1, "two", null] })).toBe(true);
  });

  it("a defineSignal with a zod schema refuses a bad payload listing the issues and writes nothing; a good one reaches the handler typed", async () => {
    const { workflow, registry, run } = await env();
    registry.register(deploy);
    registry.register(add);
    const approval = defineSignal("approval", { schema: z.object({ approver: z.string().min(1), level: z.number().int() }) });
    await run();
    const dag = workflow.dag();
    const build = dag.step("build", add, 1, 2);
    const d = dag.step("deploy", deploy, approval.ref(), build.ref());
    await workflow.submit(dag);
    const err = await rejection(workflow.signal(dag.id, approval, { approver: "", level: 1.5 }));
    expect(err.code).toBe("invalid");
    expect(err.message).toContain("schema");
    expect(err.message).toContain("approver");
    expect(err.message).toContain("level");
    // @ts-expect-error the payload type comes from the schema
    const wrongType = await rejection(workflow.signal(dag.id, approval, { approver: 7 }));
    expect(wrongType.code).toBe("invalid");
    expect((await workflow.listSignals(dag.id)).filter((s) => s.delivered)).toEqual([]);
    expect(await workflow.signal(dag.id, approval, { approver: "ops", level: 2 })).toBe(true);
    expect(await workflow.await(d, { timeoutMs: 10_000 })).toBe("ops deployed 3");
  });

  it("a step gated by an armed breakpoint and a signal runs only after both, exactly once, in either order (§7.122)", async () => {
    const { workflow, registry, run } = await env();
    registry.register(counted);
    await run();
    const make = async (): Promise<string> => {
      const dag = workflow.dag();
      dag.step("s", counted, signalRef<unknown>("go")).breakBefore("X");
      await workflow.submit(dag, { breakpoints: ["X"] });
      return dag.id;
    };
    const first = await make(); // signal, then breakpoint
    const second = await make(); // breakpoint, then signal
    expect(await workflow.signal(first, "go", "first")).toBe(true);
    expect(await workflow.resumeBreakpoint(second, "X")).toBe(1);
    await sleep(400);
    expect(runs.get(`${first}/s`)).toBeUndefined();
    expect(runs.get(`${second}/s`)).toBeUndefined();
    expect(await stepOf(workflow, first, "s")).toMatchObject({ status: "pending", waitingOn: { breakpoint: true, signals: [] } });
    expect(await stepOf(workflow, second, "s")).toMatchObject({ status: "pending", waitingOn: { breakpoint: false, signals: ["go"] } });
    expect(await workflow.resumeBreakpoint(first, "X")).toBe(1);
    expect(await workflow.signal(second, "go", "second")).toBe(true);
    expect(await workflow.awaitById(first, "s", { timeoutMs: 10_000 })).toBe("first");
    expect(await workflow.awaitById(second, "s", { timeoutMs: 10_000 })).toBe("second");
    await sleep(200);
    expect([runs.get(`${first}/s`), runs.get(`${second}/s`)]).toEqual([1, 1]);
  });

  it("a signal delivered while the DAG is paused takes effect only after resume (§7.121, E2E_PauseInterplay)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    registry.register(echoValue);
    await run();
    const dag = workflow.dag();
    const s = dag.step("s", echoValue, signalRef<string>("go"));
    await workflow.submit(dag);
    expect(await workflow.pause(dag.id)).toBe("paused");
    expect(await workflow.signal(dag.id, "go", "ran")).toBe(true);
    await sleep(400);
    expect(await stepOf(workflow, dag.id, "s")).toMatchObject({ status: "pending", held: true, waitingOn: { held: true, signals: [] } });
    expect(await workflow.resume(dag.id)).toBe("running");
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toBe("ran");
    await untilStatus(dag.id, "done");
  });

  it("cancel turns a signal-waiting step canceled; a later signal returns false and writes nothing (§7.123)", async () => {
    const { workflow, registry, run } = await env();
    registry.register(echoValue);
    await run();
    const dag = workflow.dag();
    const s = dag.step("s", echoValue, signalRef<string>("go"));
    await workflow.submit(dag);
    await sleep(200);
    expect(await workflow.cancel(dag.id)).toBe(true);
    expect((await rejection(workflow.await(s, { timeoutMs: 5000 }))).code).toBe("step_canceled");
    expect((await stepOf(workflow, dag.id, "s")).status).toBe("canceled");
    expect(await workflow.signal(dag.id, "go", "late")).toBe(false);
    expect(await workflow.listSignals(dag.id)).toEqual([{ name: "go", delivered: false }]);
    expect((await workflow.dagInfo(dag.id)).meta.status).toBe("canceled");
  });

  it("a signalRef is not a dependency: an unrelated failing step does not skip it; a failing real dependency does (§7.124)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [echoValue, fail, failNumber, pair]) registry.register(h);
    await run();
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    dag.step("f", fail, "unrelated");
    const bad = dag.step("bad", failNumber, "dep");
    const s = dag.step("s", echoValue, signalRef<string>("go"));
    const t = dag.step("t", pair, signalRef<string>("go"), bad.ref());
    await workflow.submit(dag);
    await workflow.awaitById(dag.id, "f", { timeoutMs: 10_000 }).catch(() => undefined);
    expect((await rejection(workflow.await(t, { timeoutMs: 10_000 }))).code).toBe("step_skipped");
    expect(await stepOf(workflow, dag.id, "s")).toMatchObject({ status: "pending", deps: [] });
    expect(await workflow.signal(dag.id, "go", "still ran")).toBe(true);
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toBe("still ran");
    await untilStatus(dag.id, "failed"); // f failed, not optional
  });

  it("names like 'meta', 'a.step.b' and unicode round-trip as signals and never show up as DAGs or steps (§7.127)", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    registry.register(triple);
    const names = ["meta", "a.step.b", "ünï 💥 名前"];
    const dag = workflow.dag();
    const s = dag.step("s", triple, signalRef<unknown>(names[0]!), signalRef<unknown>(names[1]!), signalRef<unknown>(names[2]!));
    await workflow.submit(dag);
    for (const [i, n] of names.entries()) expect(await workflow.signal(dag.id, n, { i, n })).toBe(true);
    const listed = await workflow.listSignals(dag.id);
    expect(listed.map((x) => x.name)).toEqual([...names].sort());
    for (const x of listed) expect(JSON.parse(x.payload!)).toEqual({ i: names.indexOf(x.name), n: x.name });
    expect((await workflow.dagInfo(dag.id)).steps.map((x) => x.stepId)).toEqual(["s"]);
    const metas = await workflow.listDagsByLabels();
    expect(metas.filter((m) => m.id.startsWith(dag.id))).toHaveLength(1);
    expect(metas.every((m) => typeof m.status === "string" && m.createdAt instanceof Date)).toBe(true);
    await run();
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toEqual(names.map((n, i) => ({ i, n })));
    await untilStatus(dag.id, "done");
  });

  it("the same signal sent at once from two processes (two Workflow instances, two connections) is delivered exactly once", async () => {
    const { workflow, registry, run, untilStatus, otherProcess } = await env();
    registry.register(counted);
    const other = (await otherProcess()).workflow;
    const names = ["n0", "n1", "n2", "n3", "n4", "n5"];
    const dag = workflow.dag();
    const s = dag.step("s", counted, "once").waitForSignal(...names);
    await workflow.submit(dag);
    await run();
    for (const name of names) {
      const [mine, theirs] = await Promise.all([workflow.signal(dag.id, name, { from: "one" }), other.signal(dag.id, name, { from: "two" })]);
      expect([mine, theirs].filter(Boolean)).toHaveLength(1);
      const stored = (await workflow.listSignals(dag.id)).find((x) => x.name === name)!;
      expect(JSON.parse(stored.payload!)).toEqual({ from: mine ? "one" : "two" });
    }
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toBe("once");
    await untilStatus(dag.id, "done");
    await sleep(200);
    expect(runs.get(`${dag.id}/s`)).toBe(1);
  });

  it("signalTimeoutMs: a step whose signal never comes fails with kind signal_timeout and its dependent is skipped; an optional one does not fail the DAG", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    registry.register(echoValue);
    await run();
    const strict = workflow.dag();
    const s = strict.step("s", echoValue, signalRef<string>("never")).signalTimeoutMs(400);
    const d = strict.step("d", echoValue, s.ref());
    const lenient = workflow.dag();
    lenient.step("o", echoValue, signalRef<string>("never")).signalTimeoutMs(400).optional();
    lenient.step("ok", echoValue, "ok");
    await workflow.submit(strict);
    await workflow.submit(lenient);
    const err = await rejection(workflow.await(s, { timeoutMs: 10_000 }));
    expect(err.code).toBe("step_failed");
    expect(err.message).toContain("signal_timeout");
    expect(await stepOf(workflow, strict.id, "s")).toMatchObject({ status: "failed", errorKind: "signal_timeout" });
    expect((await stepOf(workflow, strict.id, "s")).errorMessage).toContain('"never"');
    expect((await rejection(workflow.await(d, { timeoutMs: 10_000 }))).code).toBe("step_skipped");
    await untilStatus(strict.id, "failed");
    await untilStatus(lenient.id, "done");
    expect(await stepOf(workflow, lenient.id, "o")).toMatchObject({ status: "failed", errorKind: "signal_timeout" });
  });

  it("a signal wait's clock starts once the step's dependencies are done, and never fires early; a dynamic step's timeout fires too", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    const spawner = defineHandler("sig.timedSpawner", async (ctx) => {
      await dagContext(ctx)!.addStepWith("dyn", { waitForSignal: ["never"], signalTimeoutMs: 300 }, echoValue, "dyn");
      return "spawned";
    });
    for (const h of [slowValue, echoValue, spawner]) registry.register(h);
    await run({ concurrency: 4 });
    const dag = workflow.dag();
    const a = dag.step("a", slowValue, 900, "a");
    dag.step("s", echoValue, signalRef<string>("never")).after(a).signalTimeoutMs(500).optional();
    dag.step("p", spawner);
    await workflow.submit(dag);
    await sleep(200);
    expect((await stepOf(workflow, dag.id, "s")).signalWaitSince).toBeUndefined(); // a still runs
    await untilStatus(dag.id, "failed");
    const steps = new Map((await workflow.dagInfo(dag.id)).steps.map((x) => [x.stepId, x]));
    const sRec = steps.get("s")!;
    expect(sRec).toMatchObject({ status: "failed", errorKind: "signal_timeout" });
    expect(sRec.signalWaitSince!.getTime()).toBeGreaterThanOrEqual(steps.get("a")!.finishedAt!.getTime());
    expect(sRec.finishedAt!.getTime()).toBeGreaterThanOrEqual(sRec.signalWaitSince!.getTime() + 500);
    const dyn = steps.get("dyn")!;
    expect(dyn).toMatchObject({ status: "failed", errorKind: "signal_timeout", signalTimeoutMs: 300 });
    expect(dyn.finishedAt!.getTime()).toBeGreaterThanOrEqual(dyn.signalWaitSince!.getTime() + 300);
  });

  it("signal options are checked when building: empty names, no names, a timeout out of range or without a signal", async () => {
    const { workflow, registry } = await env();
    registry.register(echoValue);
    const invalid = (fn: () => unknown): string => {
      const err = thrown(fn);
      expect(err.code).toBe("invalid");
      return err.message;
    };
    const dag = workflow.dag();
    const s = dag.step("s", echoValue, 1);
    expect(invalid(() => signalRef(""))).toContain("non-empty");
    expect(invalid(() => defineSignal(""))).toContain("non-empty");
    invalid(() => s.waitForSignal());
    invalid(() => s.waitForSignal(""));
    for (const ms of [0, -1, 1.5, NaN, 2 ** 31]) expect(invalid(() => s.signalTimeoutMs(ms))).toContain("signalTimeoutMs");
    s.signalTimeoutMs(1000); // but nothing to wait for
    const err = await rejection(workflow.submit(dag));
    expect(err.code).toBe("invalid");
    expect(err.message).toContain("needs a signal");
    expect((await rejection(workflow.dagInfo(dag.id))).code).toBe("dag_not_found");
  });

  it("a refused waitForSignal call leaves the step as it was (like breakBefore): waitForSignal('ok', '') adds no wait for 'ok'", async () => {
    const { workflow, registry } = await env();
    registry.register(echoValue);
    const dag = workflow.dag();
    const t = dag.step("t", echoValue, 1);
    expect(() => t.waitForSignal("ok", "")).toThrow(WorkflowError);
    expect(() => t.breakBefore("ok", "")).toThrow(WorkflowError);
    await workflow.submit(dag, { breakpoints: ["ok"] });
    const record = (await workflow.dagInfo(dag.id)).steps[0]!;
    expect(record.breakBefore).toEqual([]);
    expect(record.waitSignals).toEqual([]);
  });

  it("a signal that arrives before the timeout cancels it: the step runs and stays done past the due time", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    registry.register(echoValue);
    await run();
    const dag = workflow.dag();
    const s = dag.step("s", echoValue, signalRef<string>("go")).signalTimeoutMs(1200);
    await workflow.submit(dag);
    await eventually(async () => (await stepOf(workflow, dag.id, "s")).signalWaitSince !== undefined, "the wait's clock started");
    await sleep(200);
    expect(await workflow.signal(dag.id, "go", "in time")).toBe(true);
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toBe("in time");
    await untilStatus(dag.id, "done");
    await sleep(1300); // past the due time
    expect(await stepOf(workflow, dag.id, "s")).toMatchObject({ status: "done" });
    expect((await stepOf(workflow, dag.id, "s")).errorKind).toBeUndefined();
    expect((await workflow.dagInfo(dag.id)).meta.status).toBe("done");
  });

  it("a signal timeout fires across a restart of every process: due while nothing ran, a fresh scheduler's sweep fails the step", async () => {
    const { workflow, registry, run, otherProcess } = await env();
    registry.register(echoValue);
    const first = await run();
    const dag = workflow.dag();
    const s = dag.step("s", echoValue, signalRef<string>("never")).signalTimeoutMs(3000);
    dag.step("d", echoValue, s.ref());
    await workflow.submit(dag);
    await eventually(async () => (await stepOf(workflow, dag.id, "s")).signalWaitSince !== undefined, "the wait's clock is on the record");
    const due = (await stepOf(workflow, dag.id, "s")).signalWaitSince!.getTime() + 3000;
    await Promise.all([first.worker.close(), first.scheduler.stop()]);
    workflow.close();
    expect(Date.now(), "every process stopped before the wait was due").toBeLessThan(due - 200);
    await sleep(due - Date.now() + 500); // past the due time, with no process running
    expect(await stepOf(workflow, dag.id, "s")).toMatchObject({ status: "pending" });

    const other = await otherProcess();
    const fresh = other.workflow;
    await other.startScheduler({ sweepCheckIntervalMs: 100 });
    const err = await rejection(fresh.awaitById(dag.id, "s", { timeoutMs: 5000 }));
    expect(err.code).toBe("step_failed");
    expect(await stepOf(fresh, dag.id, "s")).toMatchObject({ status: "failed", errorKind: "signal_timeout" });
    expect((await stepOf(fresh, dag.id, "d")).status).toBe("skipped");
    await eventually(async () => (await fresh.dagInfo(dag.id)).meta.status === "failed", "the DAG failed");
  });

  it("a waiting step survives a restart and is signalled from another process (§7.128, E2E_DurableAcrossRestart_CrossProcessSignal)", async () => {
    const { workflow, registry, run, otherProcess } = await env();
    for (const h of [add, deploy]) registry.register(h);
    const first = await run();
    const dag = workflow.dag();
    const build = dag.step("build", add, 1, 2);
    dag.step("deploy", deploy, signalRef<Approval>("approval"), build.ref());
    await workflow.submit(dag);
    await workflow.await(build, { timeoutMs: 10_000 });
    await first.worker.close();
    await first.scheduler.stop();
    workflow.close();

    const other = await otherProcess();
    const fresh = other.workflow;
    expect(await fresh.listSignals(dag.id)).toEqual([{ name: "approval", delivered: false, waiting: ["deploy"] }]);
    await other.startWorker();
    await other.startScheduler();
    expect(await fresh.signal(dag.id, "approval", { approver: "ops" })).toBe(true);
    expect(await fresh.awaitById(dag.id, "deploy", { timeoutMs: 10_000 })).toBe("ops deployed 3");
    await fresh.awaitDag(dag.id, { timeoutMs: 10_000 });
  });
});
