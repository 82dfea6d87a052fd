/**
 * DAG building and submit, over both backends: reference §7 items 51–60, §3.10–3.11.
 */
import { expect, it } from "vitest";
import { TASK_STREAM } from "../../../src/broker/index.js";
import { decodeTask } from "../../../src/task/index.js";
import { WorkflowError } from "../../../src/workflow/index.js";
import { describeBackends } from "../../support/backends.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { add, concat, double, echoValue } from "../../support/handlers/workflow.js";

function code(err: unknown): string | undefined {
  return err instanceof WorkflowError ? err.code : undefined;
}

describeBackends("workflow: build and submit", (backend) => {
  const env = useWorkflowEnv(backend);

  it("an empty DAG fails with 'no steps'; a duplicate step id is refused (§7.51)", async () => {
    const { workflow } = await env();
    const dag = workflow.dag();
    await expect(workflow.submit(dag)).rejects.toThrow(/has no steps/);
    dag.step("a", add, 1, 2);
    expect(() => dag.step("a", add, 3, 4)).toThrow('workflow: duplicate step id "a"');
  });

  it("a dependency cycle fails with code cycle and persists nothing (§7.52)", async () => {
    const { workflow } = await env();
    const dag = workflow.dag();
    const a = dag.step("a", add, 1, 2);
    const b = dag.step("b", double, a.ref());
    a.after(b);
    const err = await workflow.submit(dag).catch((e: unknown) => e);
    expect(code(err)).toBe("cycle");
    expect((err as Error).message).toMatch(/cycle detected/);
    await expect(workflow.dagInfo(dag.id)).rejects.toMatchObject({ code: "dag_not_found" });
  });

  it("a ref to a step outside the DAG is refused, naming both DAGs (§7.53)", async () => {
    const { workflow } = await env();
    const otherDag = workflow.dag();
    const other = otherDag.step("elsewhere", add, 1, 1);
    const dag = workflow.dag();
    dag.step("b", double, other.ref());
    await expect(workflow.submit(dag)).rejects.toThrow(`workflow: step "b": arg 0 refers to step "elsewhere" of DAG ${otherDag.id}, not of ${dag.id}`);
    await expect(workflow.dagInfo(dag.id)).rejects.toMatchObject({ code: "dag_not_found" });
  });

  it("a second submit fails; another DAG with the same pinned id fails with stale_revision (§7.54)", async () => {
    const { workflow } = await env();
    const id = `pinned-${Date.now()}`;
    const dag = workflow.dag({ id });
    dag.step("a", add, 1, 2);
    await workflow.submit(dag);
    await expect(workflow.submit(dag)).rejects.toThrow(/already submitted/);
    const again = workflow.dag({ id });
    again.step("a", add, 1, 2);
    expect(code(await workflow.submit(again).catch((e: unknown) => e))).toBe("stale_revision");
  });

  it("submit persists meta running and a pending record per step, and starts only the roots (§7.55, §7.56)", async () => {
    const { broker, workflow } = await env();
    const dag = workflow.dag({ retry: { maximumAttempts: 3 } });
    const a = dag.step("a", add, 2, 3);
    dag.step("r", echoValue, "root two");
    dag.step("b", double, a.ref());
    await workflow.submit(dag);
    const info = await workflow.dagInfo(dag.id);
    expect(info.meta.status).toBe("running");
    const byId = new Map(info.steps.map((s) => [s.stepId, s]));
    expect(byId.get("a")?.status).toBe("running");
    expect(byId.get("a")?.startedAt).toBeInstanceOf(Date);
    expect(byId.get("r")?.status).toBe("running");
    expect(byId.get("b")?.status).toBe("pending");
    expect(byId.get("b")?.deps).toEqual(["a"]);
    // No worker runs: the two root tasks wait in the stream.
    const state = await broker.streamState(TASK_STREAM);
    expect(state?.messages).toBe(2);
    const tasks = [];
    for (let seq = state!.firstSeq; seq <= state!.lastSeq; seq++) {
      const msg = await broker.getMessage(TASK_STREAM, seq);
      if (msg) tasks.push({ task: decodeTask(msg.data), msgId: msg.headers.get("Nats-Msg-Id"), subject: msg.subject });
    }
    const rootA = tasks.find((t) => t.task.stepId === "a")!;
    expect(rootA.task).toMatchObject({ id: `${dag.id}:a`, name: "wf.add", payload: "[2,3]", dagId: dag.id, stepId: "a", attempt: 0 });
    expect(rootA.task.replyTo).toBeUndefined();
    expect(rootA.task.deadline).toBeUndefined();
    expect(rootA.task.retryPolicy?.maximumAttempts).toBe(3);
    expect(rootA.subject).toBe("TASKS.wf.add");
    // One message id per DAG incarnation and start of the step (a step started again after a pause gets a new one).
    const startedA = byId.get("a")!.startedAt ?? (await workflow.dagInfo(dag.id)).steps.find((s) => s.stepId === "a")!.startedAt!;
    expect(rootA.msgId).toBe(`${dag.id}:a:${info.meta.createdAt.getTime()}:${startedA.getTime()}`);
    expect(rootA.task.enqueuedAt.getTime()).toBe(startedA.getTime());
  });

  it("labels are deduplicated; none means absent; an empty label is refused (§7.57)", async () => {
    const { workflow } = await env();
    const dag = workflow.dag({ labels: ["billing", "nightly", "billing"] });
    dag.step("a", add, 1, 1);
    await workflow.submit(dag);
    expect((await workflow.dagInfo(dag.id)).meta.labels).toEqual(["billing", "nightly"]);
    const bare = workflow.dag();
    bare.step("a", add, 1, 1);
    await workflow.submit(bare);
    expect((await workflow.dagInfo(bare.id)).meta.labels).toBeUndefined();
    expect(() => workflow.dag({ labels: [""] })).toThrow(/non-empty/);
  });

  it("the DAG's retry policy is copied onto every step; a step's own policy wins (§7.58)", async () => {
    const { workflow } = await env();
    const dag = workflow.dag({ retry: { maximumAttempts: 7 } });
    dag.step("a", add, 1, 1);
    dag.step("b", add, 1, 1).retry({ maximumAttempts: 99 });
    await workflow.submit(dag);
    const steps = new Map((await workflow.dagInfo(dag.id)).steps.map((s) => [s.stepId, s]));
    expect(steps.get("a")?.policy?.maximumAttempts).toBe(7);
    expect(steps.get("b")?.policy?.maximumAttempts).toBe(99);
    expect((await workflow.dagInfo(dag.id)).meta.defaultPolicy?.maximumAttempts).toBe(7);
  });

  it("after → deps, afterAny → optional deps, a ref plus after once; onTarget → placement direct (§7.59, §7.60)", async () => {
    const { workflow } = await env();
    const dag = workflow.dag();
    const a = dag.step("a", add, 1, 1);
    dag.step("b", add, 2, 2).after(a);
    dag.step("c", add, 3, 3).afterAny(a);
    dag.step("d", double, a.ref()).after(a);
    dag.step("e", add, 4, 4).onTarget("primary");
    await workflow.submit(dag);
    const steps = new Map((await workflow.dagInfo(dag.id)).steps.map((s) => [s.stepId, s]));
    expect(steps.get("b")).toMatchObject({ deps: ["a"], optionalDeps: [] });
    expect(steps.get("c")).toMatchObject({ deps: [], optionalDeps: ["a"] });
    expect(steps.get("d")?.deps).toEqual(["a"]);
    expect(steps.get("e")?.placement).toEqual({ mode: "direct", target: "primary" });
  });

  it("bad literal arguments and ids are refused at submit, naming the step, before anything is persisted", async () => {
    const { workflow } = await env();
    const dag = workflow.dag();
    dag.step("a", echoValue, { big: 10n });
    await expect(workflow.submit(dag)).rejects.toThrow(/workflow: step "a": arg 0\.big.*BigInt/);
    const loose = workflow.dag();
    (loose.step as (...a: unknown[]) => unknown)("b", concat, "only one");
    await expect(workflow.submit(loose)).rejects.toThrow('workflow: step "b": wf.concat arguments: want at least 2, got 1');
    await expect(workflow.dagInfo(loose.id)).rejects.toMatchObject({ code: "dag_not_found" });
    expect(() => workflow.dag({ id: "has.dot" })).toThrow(/DAG id "has.dot" is invalid/);
    expect(() => workflow.dag().step("x y", add, 1, 1)).toThrow(/step id "x y" is invalid/);
  });
});
