/**
 * Awaits of one process share one KV watch (issue 14, src/workflow/store/shared-watch.ts), over both
 * backends: many outstanding awaits hold one server-side consumer of the DAG bucket (NATS), and each
 * still settles with its own step's outcome — results, failures, and a step that is already done
 * when awaited.
 */
import { expect, it } from "vitest";
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
});
