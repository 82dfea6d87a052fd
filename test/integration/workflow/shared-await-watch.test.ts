/**
 * Awaits of one process share one KV watch (issue 14, src/workflow/store/shared-watch.ts), over both
 * backends: many outstanding awaits hold one server-side consumer of the DAG bucket (NATS), and each
 * still settles with its own step's outcome — results, failures, and a step that is already done
 * when awaited. They share one abort listener per signal and one timer for their polls, which carry
 * an await on their own when the watch is closed.
 */
import { getEventListeners } from "node:events";
import { expect, it } from "vitest";
import { silentLogger } from "../../../src/broker/index.js";
import { Workflow } from "../../../src/workflow/index.js";
import { describeBackends } from "../../support/backends.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { add, fail } from "../../support/handlers/workflow.js";

describeBackends("workflow: awaits share one watch per process", (backend) => {
  const env = useWorkflowEnv(backend);

  it("40 outstanding awaits hold one consumer of the bucket and each gets its own outcome", async () => {
    const { broker, workflow, registry, startWorker } = await env();
    registry.register(add);
    registry.register(fail);
    const dags = Array.from({ length: 40 }, (_, i) => {
      const dag = workflow.dag();
      if (i % 10 === 9) dag.step("a", fail, "boom");
      else dag.step("a", add, i, 1);
      return dag;
    });
    for (const dag of dags) await workflow.submit(dag); // no worker yet: every step waits
    const consumersBefore = (await broker.streamState("KV_ebind-dags"))?.consumers ?? 0;
    const waits = dags.map((dag) => workflow.awaitById<number>(dag.id, "a", { timeoutMs: 30_000 }).then((v) => ({ v }), (e: Error) => ({ e })));
    await new Promise((r) => setTimeout(r, 500)); // every await registered and read once
    const consumers = (await broker.streamState("KV_ebind-dags"))?.consumers ?? 0;
    if (backend.name === "nats") expect(consumers - consumersBefore).toBe(1);
    await startWorker();
    const outcomes = await Promise.all(waits);
    outcomes.forEach((o, i) => {
      if (i % 10 === 9) expect("e" in o && o.e.message).toMatch(/step failed/);
      else expect(o).toEqual({ v: i + 1 });
    });
    // A step already done when awaited resolves at once, through the same watch.
    expect(await workflow.awaitById<number>(dags[0]!.id, "a", { timeoutMs: 5_000 })).toBe(1);
  });

  it("awaits passing one signal add one listener to it; the abort rejects each with its reason and removes the listener", async () => {
    const { workflow, registry, startWorker } = await env();
    registry.register(add);
    const dags = Array.from({ length: 20 }, (_, i) => {
      const dag = workflow.dag();
      dag.step("a", add, i, 1);
      return dag;
    });
    for (const dag of dags) await workflow.submit(dag);
    const stop = new AbortController();
    const waits = dags.map((dag) => workflow.awaitById<number>(dag.id, "a", { signal: stop.signal }).then((v) => ({ v }), (e: unknown) => ({ e })));
    // One more that settles first: it leaves the signal's group.
    const done = workflow.dag();
    const first = done.step("a", add, 1, 1);
    await workflow.submit(done);
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(1);
    await startWorker();
    expect(await workflow.await(first, { signal: stop.signal, timeoutMs: 30_000 })).toBe(2);
    const reason = new Error("the caller gave up");
    stop.abort(reason);
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
    for (const outcome of await Promise.all(waits)) {
      // Each either finished before the abort (the worker ran it) or rejected with the reason.
      if ("e" in outcome) expect(outcome.e).toBe(reason);
      else expect(typeof outcome.v).toBe("number");
    }
    await expect(workflow.awaitById(dags[0]!.id, "a", { signal: stop.signal })).rejects.toBe(reason);
    await expect(workflow.awaitDag(dags[0]!.id, { signal: stop.signal })).rejects.toBe(reason);
  });

  it("with the watch closed, step and DAG awaits still settle by their polls", async () => {
    const { broker, registry, run } = await env();
    registry.register(add);
    const other = await Workflow.create(broker, { logger: silentLogger });
    try {
      const dags = Array.from({ length: 5 }, (_, i) => {
        const dag = other.dag();
        dag.step("a", add, i, 10);
        return dag;
      });
      for (const dag of dags) await other.submit(dag);
      const steps = dags.map((dag) => other.awaitById<number>(dag.id, "a", { pollMs: 50, timeoutMs: 30_000 }));
      const ends = dags.map((dag) => other.awaitDag(dag.id, { pollMs: 50, timeoutMs: 30_000 }));
      await new Promise((r) => setTimeout(r, 200)); // every await registered and read once
      other.close(); // the watches stop; the polls carry on
      await run();
      expect(await Promise.all(steps)).toEqual([10, 11, 12, 13, 14]);
      expect((await Promise.all(ends)).map((m) => m.status)).toEqual(["done", "done", "done", "done", "done"]);
    } finally {
      other.close();
    }
  });
});
