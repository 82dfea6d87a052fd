/**
 * The meta's step index (`DagMeta.stepIds`, issue 14) on both backends: written at submit for DAGs
 * of at most STEP_INDEX_MAX steps, grown by `touchMeta(dag, step)` (retried past a concurrent write),
 * dropped when it would pass the cap, kept by the meta's other writers (pause, resume, finalise), and
 * `loadIndexed` reading the steps by key.
 */
import { expect, it } from "vitest";
import { DagStore } from "../../../src/workflow/store/store.js";
import { DAG_BUCKET, STEP_INDEX_MAX } from "../../../src/workflow/index.js";
import { describeBackends } from "../../support/backends.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { add } from "../../support/handlers/workflow.js";

describeBackends("workflow: the meta's step index", (backend) => {
  const env = useWorkflowEnv(backend);

  it("is written at submit, grown by touchMeta with a step, and read by loadIndexed", async () => {
    const { broker, workflow } = await env();
    const dag = workflow.dag();
    dag.step("a", add, 1, 1);
    dag.step("b", add, 2, 2);
    await workflow.submit(dag);
    const store = new DagStore(await broker.kv(DAG_BUCKET, { replicas: 1, history: 1 }));
    expect((await store.getMeta(dag.id))!.value.stepIds).toEqual(["a", "b"]);

    const before = (await store.getMeta(dag.id))!.revision;
    expect(await store.touchMeta(dag.id, "c")).toBe(true);
    expect(await store.touchMeta(dag.id, "c")).toBe(true); // already there: the revision moves, the index stays
    const after = (await store.getMeta(dag.id))!;
    expect(after.value.stepIds).toEqual(["a", "b", "c"]);
    expect(after.revision).toBeGreaterThan(before);

    const loaded = await store.loadIndexed(dag.id);
    expect(loaded!.indexed).toBe(true);
    expect([...loaded!.state.steps.keys()].sort()).toEqual(["a", "b"]); // c has no record: absent, as a listing would have it
    expect(await store.touchMeta("no-such-dag", "x")).toBe(false);
  });

  it("is kept through pause and resume, and is not written for a DAG larger than the cap", async () => {
    const { broker, workflow } = await env();
    const dag = workflow.dag();
    dag.step("a", add, 1, 1);
    await workflow.submit(dag);
    await workflow.pause(dag.id);
    await workflow.resume(dag.id);
    const store = new DagStore(await broker.kv(DAG_BUCKET, { replicas: 1, history: 1 }));
    expect((await store.getMeta(dag.id))!.value.stepIds).toEqual(["a"]);

    const big = workflow.dag();
    for (let i = 0; i <= STEP_INDEX_MAX; i++) big.step(`s${i}`, add, i, 0);
    await workflow.submit(big);
    expect((await store.getMeta(big.id))!.value.stepIds).toBeUndefined();
    const loaded = await store.loadIndexed(big.id);
    expect(loaded!.indexed).toBe(false);
    expect(loaded!.state.steps.size).toBe(STEP_INDEX_MAX + 1);
  });

  it("is dropped when a step would take it past the cap", async () => {
    const { broker, workflow } = await env();
    const dag = workflow.dag();
    for (let i = 0; i < STEP_INDEX_MAX; i++) dag.step(`s${i}`, add, i, 0);
    await workflow.submit(dag);
    const store = new DagStore(await broker.kv(DAG_BUCKET, { replicas: 1, history: 1 }));
    expect((await store.getMeta(dag.id))!.value.stepIds).toHaveLength(STEP_INDEX_MAX);
    await store.touchMeta(dag.id, "one-more");
    expect((await store.getMeta(dag.id))!.value.stepIds).toBeUndefined();
  });
});
