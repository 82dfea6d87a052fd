/**
 * Issue 15, part c: DAGs across languages. A DAG ebgo submits (Go structs in KV, roots enqueued as
 * reference §3.10/§3.11 say) runs on our workers and scheduler and is awaited from TypeScript; a DAG
 * we submit is read back by `ebgo dag get` into Go structs and compared with `ebctl dag get -o json`;
 * ebgo's pause/resume/signal/bp-resume act on a DAG our scheduler runs.
 */
import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import { connectNats } from "../../src/nats/index.js";
import { signalRef } from "../../src/workflow/index.js";
import { describeGo, runGo, type GoLine } from "../support/go.js";
import { useNatsNode } from "../support/nats.js";
import { eventually } from "../support/queue.js";
import { useWorkflowEnv } from "../support/workflow-env.js";
import { add, double, echoValue, slowValue } from "../support/handlers/workflow.js";
import { ebctl } from "../integration/cli/support.js";

describeGo("interop: DAGs across languages", () => {
  const node = useNatsNode();
  const env = useWorkflowEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });
  const go = (...args: string[]) => runGo(["dag", args[0]!, "--url", node().url, ...args.slice(1)]);
  const goGet = async (dagId: string): Promise<GoLine> => (await go("get", dagId))[0]!;

  it("a DAG submitted from Go runs on our workers and scheduler; its results are awaited from TypeScript", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [add, double, echoValue]) registry.register(h);
    await run();
    const id = `go-${randomUUID()}`;
    const spec = {
      id,
      labels: ["from-go"],
      default_policy: { initial_interval: 100_000_000, backoff_coefficient: 2, maximum_interval: 1_000_000_000, maximum_attempts: 3 },
      steps: [
        { id: "a", fn: "wf.add", args: [2, 3] },
        { id: "b", fn: "wf.double", args: [{ $ref: "a" }] },
        { id: "c", fn: "wf.add", args: [{ $ref: "b" }, 9007199254740000] },
      ],
    };
    const [submitted] = await go("submit", "--spec", JSON.stringify(spec));
    expect(submitted).toMatchObject({ event: "submitted", dag_id: id, started: ["a"] });
    expect(await workflow.awaitById(id, "b", { timeoutMs: 10_000 })).toBe(10);
    expect(await workflow.awaitById(id, "c", { timeoutMs: 10_000 })).toBe(9007199254740010);
    await untilStatus(id, "done");
    const info = await workflow.dagInfo(id);
    expect(info.meta).toMatchObject({ id, status: "done", labels: ["from-go"] });
    expect(info.meta.defaultPolicy).toMatchObject({ initialIntervalMs: 100, maximumAttempts: 3 });
    const got = await goGet(id);
    expect(got.meta).toMatchObject({ id, status: "done", labels: ["from-go"] });
    expect((got.steps as Array<Record<string, unknown>>).map((s) => [s.step_id, s.status])).toEqual([
      ["a", "done"],
      ["b", "done"],
      ["c", "done"],
    ]);
    expect(got.results).toEqual({ a: 5, b: 10, c: 9007199254740010 });
  });

  it("a Go-submitted root blocked at an armed breakpoint and one waiting on a signal are released by ebgo bp-resume and ebgo signal", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [add, echoValue]) registry.register(h);
    await run();
    const id = `go-${randomUUID()}`;
    const spec = {
      id,
      active_breakpoints: ["review"],
      steps: [
        { id: "gated", fn: "wf.add", args: [1, 1], break_before: ["review"] },
        { id: "approval", fn: "wf.echoValue", args: [{ $signal: "approve" }] },
        { id: "after", fn: "wf.add", args: [{ $ref: "gated" }, 40], break_after: ["review"] },
      ],
    };
    const [submitted] = await go("submit", "--spec", JSON.stringify(spec));
    expect(submitted).toMatchObject({ started: null, blocked: ["gated"], waiting: ["approval"] });
    expect(await workflow.getStep(id, "gated")).toMatchObject({ status: "pending", bpBefore: "blocked" });

    expect(await go("signal", id, "approve", '{"by":"eugene","n":123456789012345678901234567890123456789}')).toEqual([
      { event: "signal", dag_id: id, name: "approve", delivered: true },
    ]);
    expect(await workflow.awaitById(id, "approval", { timeoutMs: 10_000 })).toEqual({ by: "eugene", n: 1.2345678901234568e38 });
    // The signal record Go wrote keeps the 39-digit integer as raw text (our handler's JSON.parse rounds it).
    expect((await workflow.listSignals(id)).find((sig) => sig.name === "approve")).toMatchObject({
      delivered: true,
      payload: '{"by":"eugene","n":123456789012345678901234567890123456789}',
    });
    const again = await go("signal", id, "approve", "1");
    expect(again[0]).toMatchObject({ delivered: false });

    expect((await go("bp-resume", id, "review"))[0]).toMatchObject({ released: 1 });
    expect(await workflow.awaitById(id, "gated", { timeoutMs: 10_000 })).toBe(2);
    // "after" then holds at its after-breakpoint, but a leaf holds nobody: the DAG finalises, and a
    // bp-resume on a finished DAG releases nothing.
    await untilStatus(id, "done");
    expect(await go("bp-resume", id, "review")).toEqual([{ event: "bp_resumed", dag_id: id, label: "review", released: 0 }]);
  });

  it("ebgo dag get decodes a DAG we submitted into Go structs; its fields match ebctl dag get -o json", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [add, double, echoValue]) registry.register(h);
    await run();
    const dag = workflow.dag({ labels: ["ts", "interop"] });
    const a = dag.step("a", add, 20, 1);
    dag.step("b", double, a.ref());
    dag.step("s", echoValue, signalRef("go"));
    await workflow.submit(dag);
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe(21);
    await eventually(async () => (await workflow.getStep(dag.id, "b"))?.status === "done", "b done");
    await go("signal", dag.id, "go", '"from go"');
    await untilStatus(dag.id, "done");

    const got = await goGet(dag.id);
    const cli = await ebctl(["dag", "get", dag.id, "-o", "json"], { url: node().url });
    expect(cli.code).toBe(0);
    const ours = JSON.parse(cli.stdout) as { Meta: Record<string, unknown>; Steps: Array<Record<string, unknown>> };
    // Go decoded the meta and re-encoded it: every field it knows equals ours.
    const goMeta = got.meta as Record<string, unknown>;
    for (const [k, v] of Object.entries(goMeta)) expect([k, ours.Meta[k]]).toEqual([k, v]);
    // Fields Go's DAGMeta does not know (our extensions), which its decoder drops.
    expect(Object.keys(ours.Meta).filter((k) => !(k in goMeta)).sort()).toEqual(["step_ids", "submit_steps"]);
    const goSteps = got.steps as Array<Record<string, unknown>>;
    expect(goSteps.map((s) => s.step_id)).toEqual(["a", "b", "s"]);
    for (const goStep of goSteps) {
      const ourStep = ours.Steps.find((s) => s.step_id === goStep.step_id)!;
      for (const [k, v] of Object.entries(goStep)) expect([goStep.step_id, k, ourStep[k]]).toEqual([goStep.step_id, k, v]);
    }
    expect(got.results).toEqual({ a: 21, b: 42, s: "from go" });
    expect(got.signals).toMatchObject([{ dag_id: dag.id, name: "go", payload: "from go" }]);
  });

  it("ebgo pause fences a DAG our scheduler runs; ebgo resume lets it finish", async () => {
    const { workflow, registry, run, untilStatus } = await env();
    for (const h of [slowValue, add]) registry.register(h);
    await run();
    const dag = workflow.dag();
    const slow = dag.step("slow", slowValue, 500, "x");
    dag.step("next", add, 1, 2).after(slow);
    await workflow.submit(dag);
    await eventually(async () => (await workflow.getStep(dag.id, "slow"))?.status === "running", "slow running");
    const [paused] = await go("pause", dag.id);
    expect(paused).toMatchObject({ event: "paused", status: "pausing" });
    expect(await workflow.getStep(dag.id, "next")).toMatchObject({ status: "pending", held: true });
    await untilStatus(dag.id, "paused");
    await new Promise((r) => setTimeout(r, 300));
    expect((await workflow.getStep(dag.id, "next"))?.status).toBe("pending");
    const err = await go("pause", dag.id).catch((e: unknown) => e);
    expect(String(err)).toContain(`ebind: cannot pause DAG ${dag.id}: status is paused: workflow: DAG not running`);
    expect(await go("resume", dag.id)).toEqual([{ event: "resumed", dag_id: dag.id }]);
    await untilStatus(dag.id, "done");
    expect((await goGet(dag.id)).meta).toMatchObject({ status: "done", paused_at: "0001-01-01T00:00:00Z" });
  });
});
