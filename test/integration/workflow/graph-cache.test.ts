/**
 * The scheduler's cached graph of a DAG (src/workflow/run/graph-cache.ts, run/done-event.ts), over both
 * backends: a graph older than a step added since — by another process, or by a creator that does
 * not touch the meta (ebind for Go) — or than a re-creation of the DAG is never used; schedulers in
 * two processes (two Workflow instances) share the events of one DAG and run each step once; and a
 * chain no longer lists the DAG on every event.
 *
 * Most tests feed events by hand to schedulers whose consumers are stopped, so that which process
 * sees which event is decided by the test, not by the shared durable.
 */
import { expect, it } from "vitest";
import { silentLogger, type Broker, type KvBucket } from "../../../src/broker/index.js";
import { defineHandler } from "../../../src/task/index.js";
import { encodeArgs, encodeSignalRecord, encodeStepRecord } from "../../../src/workflow/model/codec.js";
import { signalKey, stepKey } from "../../../src/workflow/model/keys.js";
import { alwaysLeader, dagContext, DAG_BUCKET, Workflow, type DagEvent, type LeaderElector, type Scheduler, type StepRecord } from "../../../src/workflow/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually } from "../../support/queue.js";
import { useWorkflowEnv, type WorkflowEnv } from "../../support/workflow-env.js";
import { add, echoValue } from "../../support/handlers/workflow.js";
import { step } from "../../unit/workflow/helpers.js";

const EVENTS = "EBIND_DAG_EVENTS";

/** A handler that waits until the test opens its gate (by name), then returns the name; `wait` for other handlers. */
function gates() {
  const open = new Map<string, () => void>();
  const waits = new Map<string, Promise<void>>();
  const wait = (name: string): Promise<void> => {
    if (!waits.has(name)) waits.set(name, new Promise<void>((resolve) => open.set(name, resolve)));
    return waits.get(name)!;
  };
  const gated = defineHandler("wf.gated", async (_ctx, name: string) => {
    await wait(name);
    return name;
  });
  return {
    gated,
    wait,
    release: (name: string): void => {
      void wait(name);
      open.get(name)!();
    },
  };
}

/** An elector that never leads: a scheduler that only handles events (its reads are the events' alone, never a sweep's). */
const neverSweeps: LeaderElector = { isLeader: () => false, start: async () => {}, stop: async () => {} };

const done = (dagId: string, stepId: string): DagEvent => ({ kind: "completed", dagId, stepId, status: "done" });

async function statusOf(workflow: Workflow, dagId: string, stepId: string): Promise<string | undefined> {
  return (await workflow.dagInfo(dagId)).steps.find((s) => s.stepId === stepId)?.status;
}

async function untilStep(workflow: Workflow, dagId: string, stepId: string, status: string): Promise<void> {
  await eventually(async () => (await statusOf(workflow, dagId, stepId)) === status, `${dagId}/${stepId} ${status}`);
}

/** A pending `wf.echoValue` step taking the result of its one dependency, as ebind for Go writes it. */
function goStep(dagId: string, stepId: string, deps: [string]): StepRecord {
  const argsJson = encodeArgs([{ kind: "ref", ref: { stepId: deps[0], mode: "required" } }]);
  return step(stepId, { dagId, fnName: "wf.echoValue", argsJson, deps, addedAt: new Date() });
}

/** A scheduler whose consumer is stopped: it handles only the events the test gives it. */
/** Registers add, a gated handler and echoValue and starts a worker; returns the gated handler and its release. */
async function gatedWorker(e: WorkflowEnv): Promise<Pick<ReturnType<typeof gates>, "gated" | "release">> {
  const { gated, release } = gates();
  for (const h of [add, gated, echoValue]) e.registry.register(h);
  await e.startWorker({ concurrency: 8 });
  return { gated, release };
}

/** Submits the DAG several tests start from: r runs at once, l and g wait at their gates. */
async function submitRLG(workflow: Workflow, gated: ReturnType<typeof gates>["gated"]): Promise<ReturnType<Workflow["dag"]>> {
  const dag = workflow.dag();
  dag.step("r", add, 1, 2);
  dag.step("l", gated, "l");
  dag.step("g", gated, "g");
  await workflow.submit(dag);
  return dag;
}

async function handFed(workflow: Workflow, env: WorkflowEnv): Promise<Scheduler> {
  const scheduler = workflow === env.workflow ? await env.startScheduler() : await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });
  await scheduler.stop();
  return scheduler;
}

/** `broker` with every KV listing (`entries`/`keys`) recorded by filter, and every read (`get`) by key in `reads`. */
function countingListings(broker: Broker, filters: string[], reads: string[] = []): Broker {
  const bind = <T extends object>(target: T, key: string | symbol): unknown => {
    const value = Reflect.get(target, key, target) as unknown;
    return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
  };
  return new Proxy(broker, {
    get(target, key) {
      if (key !== "kv") return bind(target, key);
      return async (...args: Parameters<Broker["kv"]>): Promise<KvBucket> =>
        new Proxy(await target.kv(...args), {
          get(kv, k) {
            if (k === "get") {
              return (key: string) => {
                reads.push(key);
                return kv.get(key);
              };
            }
            if (k !== "entries" && k !== "keys") return bind(kv, k);
            return (filter?: string) => {
              filters.push(filter ?? ">");
              return k === "entries" ? kv.entries(filter) : kv.keys(filter);
            };
          },
        });
    },
  });
}

describeBackends("workflow: the scheduler's cached graph", (backend) => {
  const env = useWorkflowEnv(backend);

  it("a dynamic step added after a scheduler cached the DAG is started when its last dependency completes", async () => {
    const e = await env();
    const { workflow, registry, startWorker, untilStatus } = e;
    const { gated, release, wait } = gates();
    const parent = defineHandler("wf.addsX", async (ctx) => {
      await wait("p");
      const d = dagContext(ctx)!;
      await d.addStep("x", echoValue, d.ref<string>("l")); // depends on l and on this step
      return "added";
    });
    for (const h of [add, gated, parent, echoValue]) registry.register(h);
    await startWorker({ concurrency: 8 });
    const scheduler = await handFed(workflow, e);
    const dag = workflow.dag();
    dag.step("r", add, 1, 2);
    dag.step("p", parent);
    dag.step("l", gated, "l");
    dag.step("g", gated, "g"); // keeps the DAG unfinished throughout
    await workflow.submit(dag);

    await untilStep(workflow, dag.id, "r", "done");
    await scheduler.handleEvent(done(dag.id, "r")); // caches the graph: r, p, l, g
    expect(await statusOf(workflow, dag.id, "x")).toBeUndefined();
    release("p");
    await untilStep(workflow, dag.id, "p", "done"); // x exists now; its step_added is left unhandled
    expect(await statusOf(workflow, dag.id, "x")).toBe("pending");
    release("l");
    await untilStep(workflow, dag.id, "l", "done");
    await scheduler.handleEvent(done(dag.id, "l"));
    expect(await statusOf(workflow, dag.id, "x")).not.toBe("pending");

    release("g");
    await e.startScheduler(); // a live one handles whatever is left
    await untilStatus(dag.id, "done");
    expect(await workflow.awaitById(dag.id, "x")).toBe("l");
  });

  it("a step written by a creator that does not touch the meta is seen by every scheduler once one handled its step_added", async () => {
    const e = await env();
    const { broker, workflow, untilStatus } = e;
    const { gated, release } = await gatedWorker(e);
    const other = await Workflow.create(broker, { logger: silentLogger }); // another process
    const here = await handFed(workflow, e);
    const there = await handFed(other, e);
    const dag = await submitRLG(workflow, gated);

    await untilStep(workflow, dag.id, "r", "done");
    await here.handleEvent(done(dag.id, "r"));
    await there.handleEvent(done(dag.id, "r")); // both cache r, l, g
    // What ebind for Go's dynamic step does: create the record (l's handler is its parent), publish step_added.
    const x = goStep(dag.id, "x", ["l"]);
    const kv = await broker.kv(DAG_BUCKET);
    await kv.create(stepKey(dag.id, "x"), new TextEncoder().encode(encodeStepRecord(x)));
    await here.handleEvent({ kind: "step_added", dagId: dag.id, stepId: "x" });
    expect(await statusOf(workflow, dag.id, "x")).toBe("pending"); // l still runs

    release("l");
    await untilStep(workflow, dag.id, "l", "done");
    await there.handleEvent(done(dag.id, "l")); // its cached graph has no x, but the meta moved
    expect(await statusOf(workflow, dag.id, "x")).not.toBe("pending");

    release("g");
    await e.startScheduler();
    await untilStatus(dag.id, "done");
    expect(await workflow.awaitById(dag.id, "x")).toBe("l");
  });

  it("a dependent waiting for a signal (written by ebind for Go) is started from the full state once the signal is there", async () => {
    const e = await env();
    const { broker, workflow, untilStatus } = e;
    const { gated, release } = await gatedWorker(e);
    const scheduler = await handFed(workflow, e);
    const dag = await submitRLG(workflow, gated);
    await untilStep(workflow, dag.id, "r", "done");
    await scheduler.handleEvent(done(dag.id, "r"));
    const kv = await broker.kv(DAG_BUCKET);
    const x: StepRecord = {
      ...goStep(dag.id, "x", ["l"]),
      argsJson: encodeArgs([{ kind: "signal", signal: { name: "go" } }]),
      waitSignals: ["go"],
    };
    await kv.create(stepKey(dag.id, "x"), new TextEncoder().encode(encodeStepRecord(x)));
    await kv.create(signalKey(dag.id, "go"), new TextEncoder().encode(encodeSignalRecord({ dagId: dag.id, name: "go", payload: '"hi"', deliveredAt: new Date() })));
    await scheduler.handleEvent({ kind: "step_added", dagId: dag.id, stepId: "x" }); // graph now has x
    release("l");
    await untilStep(workflow, dag.id, "l", "done");
    await scheduler.handleEvent(done(dag.id, "l"));
    expect(await statusOf(workflow, dag.id, "x")).not.toBe("pending");
    release("g");
    await e.startScheduler();
    await untilStatus(dag.id, "done");
    expect(await workflow.awaitById(dag.id, "x")).toBe("hi");
  });

  it("a graph cached for a DAG that was deleted and re-created under its id is not used", async () => {
    const e = await env();
    const { broker, workflow, untilStatus } = e;
    const { gated, release } = await gatedWorker(e);
    const scheduler = await handFed(workflow, e);
    const id = `again-${Date.now()}`;
    const first = workflow.dag({ id });
    const a1 = first.step("a", add, 1, 1);
    first.step("b", echoValue, a1.ref());
    await workflow.submit(first);
    await untilStep(workflow, id, "a", "done");
    await scheduler.handleEvent(done(id, "a")); // caches a → b, starts b
    await untilStep(workflow, id, "b", "done");
    await workflow.deleteDag(id);
    await broker.purgeStream(EVENTS);

    const second = workflow.dag({ id });
    const a2 = second.step("a", add, 2, 2);
    second.step("b", gated, "b"); // a root now, still running when a's event is handled
    const c = second.step("c", echoValue, a2.ref());
    await workflow.submit(second);
    await untilStep(workflow, id, "a", "done");
    await scheduler.handleEvent(done(id, "a"));
    expect(await statusOf(workflow, id, "c")).not.toBe("pending");

    release("b");
    await e.startScheduler();
    expect(await workflow.await(c, { timeoutMs: 10_000 })).toBe(4);
    await untilStatus(id, "done");
  });

  it("schedulers of two processes sharing the events run every step of chains, fan-ins and dynamic steps once", async () => {
    const e = await env();
    const { broker, workflow, registry, startWorker, startScheduler, untilStatus } = e;
    const runs = new Map<string, number>();
    const counted = defineHandler("wf.countedStep", async (ctx, n: number) => {
      const key = `${ctx.task.dagId}/${ctx.task.stepId}`;
      runs.set(key, (runs.get(key) ?? 0) + 1);
      return n + 1;
    });
    const spawn = defineHandler("wf.spawn", async (ctx, n: number) => {
      const key = `${ctx.task.dagId}/${ctx.task.stepId}`;
      runs.set(key, (runs.get(key) ?? 0) + 1);
      const d = dagContext(ctx)!;
      for (let i = 0; i < n; i++) await d.addStep(`dyn-${i}`, counted, i);
      return n;
    });
    const join5 = defineHandler("wf.join5", async (_ctx, a: number, b: number, c: number, d: number, f: number) => a + b + c + d + f);
    for (const h of [counted, spawn, join5]) registry.register(h);
    await startWorker({ concurrency: 16 });
    const other = await Workflow.create(broker, { logger: silentLogger });
    await startScheduler();
    const otherScheduler = await other.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });
    try {
      const dags = Array.from({ length: 6 }, () => {
        const dag = workflow.dag();
        let prev = dag.step("c1", counted, 0);
        for (let i = 2; i <= 4; i++) prev = dag.step(`c${i}`, counted, prev.ref());
        const fan = [1, 2, 3, 4].map((k) => dag.step(`f${k}`, counted, k));
        const join = dag.step("join", join5, prev.ref(), fan[0]!.ref(), fan[1]!.ref(), fan[2]!.ref(), fan[3]!.ref());
        dag.step("spawn", spawn, 3).after(join);
        return { dag, join };
      });
      for (const { dag } of dags) await workflow.submit(dag);
      for (const { dag, join } of dags) {
        await untilStatus(dag.id, "done");
        expect(await workflow.await(join)).toBe(4 + 2 + 3 + 4 + 5);
        const steps = (await workflow.dagInfo(dag.id)).steps;
        expect(steps.map((s) => `${s.stepId}:${s.status}`).sort()).toEqual(
          ["c1", "c2", "c3", "c4", "dyn-0", "dyn-1", "dyn-2", "f1", "f2", "f3", "f4", "join", "spawn"].map((s) => `${s}:done`),
        );
        for (const s of steps) if (s.stepId !== "join") expect(runs.get(`${dag.id}/${s.stepId}`), s.stepId).toBe(1);
      }
    } finally {
      await otherScheduler.stop();
    }
  });

  it("completion events of one DAG that piled up are handled (together) and start the join once", async () => {
    const { workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    let joins = 0;
    const join = defineHandler("wf.joinAll", async (_ctx, ...ns: number[]) => {
      joins++;
      return ns.reduce((a, b) => a + b, 0);
    }, { arity: 20 });
    for (const h of [add, join]) registry.register(h);
    await startWorker({ concurrency: 16 });
    const dag = workflow.dag();
    const leaves = Array.from({ length: 20 }, (_, i) => dag.step(`leaf${i}`, add, i, 1));
    const all = dag.step("all", join, ...leaves.map((l) => l.ref()));
    const tail = dag.step("tail", add, all.ref(), 1);
    await workflow.submit(dag);
    for (const leaf of leaves) await workflow.await(leaf, { timeoutMs: 10_000 });
    await startScheduler(); // twenty completion events wait in the stream
    expect(await workflow.await(tail, { timeoutMs: 10_000 })).toBe(211);
    await untilStatus(dag.id, "done");
    expect(joins).toBe(1);
  });

  it("a step the meta's step index misses (written by ebind for Go, its step_added never seen) runs before the DAG finishes", async () => {
    const e = await env();
    const { broker, workflow, untilStatus } = e;
    const { gated, release } = await gatedWorker(e);
    const dag = await submitRLG(workflow, gated);
    expect((await workflow.dagInfo(dag.id)).meta.stepIds).toEqual(["r", "l", "g"]);
    // What ebind for Go's dynamic step does, minus the event: create the record only.
    const kv = await broker.kv(DAG_BUCKET);
    await kv.create(stepKey(dag.id, "x"), new TextEncoder().encode(encodeStepRecord(goStep(dag.id, "x", ["l"]))));
    await e.startScheduler();
    release("l");
    release("g");
    await untilStatus(dag.id, "done");
    expect(await statusOf(workflow, dag.id, "x")).toBe("done");
    expect(await workflow.awaitById(dag.id, "x")).toBe("l");
    expect((await workflow.dagInfo(dag.id)).meta.stepIds).toEqual(["r", "l", "g", "x"]);
  });

  it("a step's result rides on its completed event: the scheduler starts a chain without reading results back", async () => {
    const { broker, workflow, registry, startWorker, untilStatus } = await env();
    registry.register(add);
    registry.register(echoValue);
    await startWorker();
    const reads: string[] = [];
    const counted = await Workflow.create(countingListings(broker, [], reads), { logger: silentLogger });
    const scheduler = await counted.startScheduler({ elector: neverSweeps, pullExpiresMs: 1000 });
    try {
      const dag = workflow.dag();
      let prev = dag.step("s0", add, 0, 1);
      for (let i = 1; i < 6; i++) prev = dag.step(`s${i}`, add, prev.ref(), 1);
      const big = dag.step("big", echoValue, "x".repeat(5000)).after(prev); // longer than an event carries; after the chain, so that every event is handled in order
      const tail = dag.step("tail", echoValue, big.ref());
      await workflow.submit(dag);
      expect(await workflow.await(prev, { timeoutMs: 10_000 })).toBe(6);
      expect(await workflow.await(tail, { timeoutMs: 10_000 })).toBe("x".repeat(5000));
      await untilStatus(dag.id, "done");
      expect(reads.filter((k) => k.includes(".result."))).toEqual([`${dag.id}.result.big`]);
    } finally {
      await scheduler.stop();
    }
  });

  it("a chain is not listed on every event: its steps are read through the meta's step index, and listed once when finishing", async () => {
    const { broker, workflow, registry, startWorker, untilStatus } = await env();
    registry.register(add);
    await startWorker();
    const filters: string[] = [];
    const counted = await Workflow.create(countingListings(broker, filters), { logger: silentLogger });
    const scheduler = await counted.startScheduler({ elector: neverSweeps, pullExpiresMs: 1000 });
    try {
      const dag = workflow.dag();
      let prev = dag.step("s0", add, 0, 1);
      for (let i = 1; i < 12; i++) prev = dag.step(`s${i}`, add, prev.ref(), 1);
      await workflow.submit(dag);
      expect(await workflow.await(prev, { timeoutMs: 10_000 })).toBe(12);
      await untilStatus(dag.id, "done");
      // Before the cache: one listing of the steps (and one of the signals) per event, 24 here;
      // before the step index: one more when the scheduler first saw the DAG.
      expect(filters.filter((f) => f.startsWith(`${dag.id}.`))).toEqual([`${dag.id}.step.*`]);
    } finally {
      await scheduler.stop();
    }
  });
});
