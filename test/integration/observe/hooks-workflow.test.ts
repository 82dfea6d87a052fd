/**
 * The telemetry hooks of the workflow (issue 17): a DAG's submit, its steps' publishes and the
 * scheduler's events, over both backends; the DAG's trace context in its meta reaching every step.
 */
import { expect, it } from "vitest";
import { silentLogger, type Broker } from "../../../src/broker/index.js";
import { decodeTask, Registry } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { alwaysLeader, Workflow, type Scheduler } from "../../../src/workflow/index.js";
import { describeBackends, openFreshBroker, useCleanups } from "../../support/backends.js";
import { eventually } from "../../support/queue.js";
import { recordingTelemetry } from "../../support/telemetry.js";
import { add, double, sum } from "../../support/handlers/workflow.js";

function registerAll(...handlers: Parameters<Registry["register"]>[0][]): Registry {
  const registry = new Registry();
  for (const h of handlers) registry.register(h);
  return registry;
}

describeBackends("telemetry hooks: workflow", (backend) => {
  const cleanups = useCleanups();

  async function open(): Promise<Broker> {
    const broker = await openFreshBroker(backend, cleanups);
    await broker.purgeStream("EBIND_DAG_EVENTS").catch(() => 0); // left by an earlier test of the file (NATS)
    return broker;
  }

  async function start(broker: Broker, workflow: Workflow, registry: Registry, telemetry = recordingTelemetry().telemetry): Promise<{ worker: Worker; scheduler: Scheduler }> {
    const worker = await Worker.start(broker, registry, { logger: silentLogger, pullExpiresMs: 1000, stepHook: workflow.stepHook, middleware: [workflow.middleware], telemetry });
    cleanups.push(() => worker.close());
    const scheduler = await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });
    cleanups.push(() => scheduler.stop());
    return { worker, scheduler };
  }

  it("submit → dagSubmit (its context stored in the meta); every step's publish has the DAG's context as parent; scheduler events reported; each step's task carries its publish scope's context", async () => {
    const broker = await open();
    const rec = recordingTelemetry();
    const workflow = await Workflow.create(broker, { logger: silentLogger, telemetry: rec.telemetry });
    cleanups.push(async () => workflow.close());
    const registry = registerAll(add, double, sum);
    await start(broker, workflow, registry, rec.telemetry);
    const dag = workflow.dag({ labels: ["team=obs"] });
    const a = dag.step("a", add, 1, 2);
    const b = dag.step("b", double, a.ref());
    const c = dag.step("c", double, a.ref());
    dag.step("d", sum, b.ref(), c.ref());
    const meta = await workflow.submit(dag);
    await workflow.awaitDag(dag.id, { timeoutMs: 15_000 });
    expect(await workflow.awaitById(dag.id, "d")).toBe(12);

    expect(rec.of("dagSubmit")).toEqual([{ hook: "dagSubmit", dagId: dag.id, steps: 4, labels: ["team=obs"], returned: { traceparent: "tp-1" } }]);
    expect(rec.of("dagSubmit.end")).toEqual([{ hook: "dagSubmit.end", dagId: dag.id, error: undefined }]);
    expect(meta.traceCtx).toEqual({ traceparent: "tp-1" });
    expect((await workflow.dagInfo(dag.id)).meta.traceCtx).toEqual({ traceparent: "tp-1" });
    // dagSubmit, then the root's publish (started by the submit), then the submit's end.
    const submitSide = rec.calls.filter((c) => c.hook.startsWith("dagSubmit") || ((c.hook === "publish" || c.hook === "publish.end") && c.taskId === `${dag.id}:a`));
    expect(submitSide.map((c) => c.hook)).toEqual(["dagSubmit", "publish", "publish.end", "dagSubmit.end"]);
    expect(rec.calls[0]?.hook).toBe("dagSubmit");

    const publishes = rec.of("publish");
    expect(publishes.map((p) => p.taskId).sort()).toEqual(["a", "b", "c", "d"].map((s) => `${dag.id}:${s}`));
    for (const p of publishes) {
      expect(p).toMatchObject({ kind: "step", parent: { traceparent: "tp-1" }, taskTraceCtx: { traceparent: "tp-1" } });
      expect(p.subject).toBe(`TASKS.${p.name}`);
      // Each step ran once, with its publish scope's context on its task.
      const attempts = rec.of("attempt").filter((x) => x.taskId === p.taskId);
      expect(attempts.map((x) => x.traceCtx)).toEqual([p.returned]);
    }
    await eventually(() => rec.of("attempt.end").length === 4, "four attempt ends");
    expect(rec.of("attempt.end").map((e) => e.outcome.result)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    // One `completed` event per step reached the scheduler, with a lag of at least 0.
    await eventually(() => rec.of("schedulerEvent").filter((e) => e.dagId === dag.id && e.kind === "completed").length === 4, "four completed events");
    for (const e of rec.of("schedulerEvent")) expect(e.lagMs).toBeGreaterThanOrEqual(0);
  });

  it("a scheduler with no telemetry still puts the DAG's trace context (from its meta) on the steps it starts", async () => {
    const broker = await open();
    const rec = recordingTelemetry();
    const submitter = await Workflow.create(broker, { logger: silentLogger, telemetry: rec.telemetry });
    cleanups.push(async () => submitter.close());
    const plain = await Workflow.create(broker, { logger: silentLogger });
    cleanups.push(async () => plain.close());
    const registry = registerAll(add, double);
    const seen = recordingTelemetry();
    await start(broker, plain, registry, seen.telemetry);
    const dag = submitter.dag();
    const a = dag.step("a", add, 2, 3);
    dag.step("b", double, a.ref());
    await submitter.submit(dag);
    expect(await submitter.awaitById(dag.id, "b", { timeoutMs: 15_000 })).toBe(10);
    // The root was started by the submit (with telemetry): its publish scope's context. b was
    // started by the plain scheduler: the meta's context.
    expect(rec.of("publish").map((p) => [p.taskId, p.returned])).toEqual([[`${dag.id}:a`, { traceparent: "tp-2" }]]);
    await eventually(() => seen.of("attempt").length === 2, "both steps' attempts");
    expect(seen.of("attempt").map((x) => [x.taskId, x.traceCtx])).toEqual([
      [`${dag.id}:a`, { traceparent: "tp-2" }],
      [`${dag.id}:b`, { traceparent: "tp-1" }],
    ]);
    expect(rec.of("schedulerEvent")).toEqual([]);
    expect(seen.of("publish")).toEqual([]);
  });

  it("a DAG's meta trace context reaches the task on the wire", async () => {
    const broker = await open();
    const rec = recordingTelemetry();
    const workflow = await Workflow.create(broker, { logger: silentLogger, telemetry: rec.telemetry });
    cleanups.push(async () => workflow.close());
    const dag = workflow.dag();
    dag.step("only", add, 1, 1);
    await workflow.submit(dag);
    // No worker: the root's task waits in the stream.
    const state = await broker.streamState("EBIND_TASKS");
    const msg = await broker.getMessage("EBIND_TASKS", state!.lastSeq);
    expect(decodeTask(msg!.data).traceCtx).toEqual({ traceparent: "tp-2" });
    expect(rec.of("publish")[0]).toMatchObject({ parent: { traceparent: "tp-1" }, returned: { traceparent: "tp-2" } });
  });
});
