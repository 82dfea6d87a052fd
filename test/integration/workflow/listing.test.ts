/**
 * The read API tools are built on (issue 13): `listDags` (filters from the metas, newest first,
 * limit, counts with blocked breakpoints and signal waits), `watch` (current state then live
 * changes, undecodable records reported), `getStep` with its revision and `storedResult` bytes.
 */
import { expect, it } from "vitest";
import { describeBackends } from "../../support/backends.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { add, fail } from "../../support/handlers/workflow.js";
import type { DagChange } from "../../../src/workflow/index.js";

describeBackends("workflow: listing and watching for tools", (backend) => {
  const env = useWorkflowEnv(backend);

  it("listDags filters by status (any case), labels (all) and age from the metas, newest first, limited; counts on request", async () => {
    const { workflow, registry, run, untilStatus, broker } = await env();
    registry.register(add);
    registry.register(fail);
    await run();
    const ok = workflow.dag({ id: "ls-ok", labels: ["team-a", "nightly"] });
    ok.step("a", add, 1, 2);
    await workflow.submit(ok);
    await untilStatus("ls-ok", "done");
    const bad = workflow.dag({ id: "ls-bad", labels: ["team-a"] });
    bad.step("x", fail, "boom");
    await workflow.submit(bad);
    await untilStatus("ls-bad", "failed");
    const held = workflow.dag({ id: "ls-held" });
    held.step("first", add, 1, 1);
    held.step("gate", add, 2, 2).breakBefore("review");
    held.step("sig", add, 3, 3).waitForSignal("go");
    await workflow.submit(held, { breakpoints: ["review"] });
    await new Promise((r) => setTimeout(r, 500));

    const since = { createdAfter: new Date(Date.now() - 30_000) }; // the bucket may hold earlier tests' DAGs
    expect((await workflow.listDags(since)).map((r) => r.meta.id)).toEqual(["ls-held", "ls-bad", "ls-ok"]);
    expect((await workflow.listDags({ status: "FAILED" })).map((r) => r.meta.id)).toEqual(["ls-bad"]);
    expect((await workflow.listDags({ labels: ["team-a", "nightly"] })).map((r) => r.meta.id)).toEqual(["ls-ok"]);
    expect((await workflow.listDags({ ...since, limit: 2 })).map((r) => r.meta.id)).toEqual(["ls-held", "ls-bad"]);
    expect(await workflow.listDags({ createdAfter: new Date(Date.now() + 60_000) })).toEqual([]);
    expect(await workflow.listDags({ createdAfter: new Date(Date.now() + 60_000), counts: true })).toEqual([]); // no counting pass when nothing matched
    expect((await workflow.listDags())[0]!.counts).toBeUndefined();

    const counted = await workflow.listDags({ counts: true });
    expect(counted.find((r) => r.meta.id === "ls-ok")!.counts).toMatchObject({ total: 1, done: 1, blockedBreakpoints: 0, waitingOnSignals: 0 });
    expect(counted.find((r) => r.meta.id === "ls-bad")!.counts).toMatchObject({ total: 1, failed: 1 });
    expect(counted.find((r) => r.meta.id === "ls-held")!.counts).toMatchObject({ total: 3, done: 1, pending: 2, blockedBreakpoints: 1, waitingOnSignals: 1 });
    expect((await workflow.listDags({ breakpointBlocked: true })).map((r) => r.meta.id)).toEqual(["ls-held"]);
    expect((await workflow.listDags({ signalWaiting: true })).map((r) => r.meta.id)).toEqual(["ls-held"]);

    // Past 8 DAGs the counts come from one pass over every step record (steps that hold nothing
    // read briefly): the same figures, and a DAG with a breakpoint still decoded in full.
    for (let i = 0; i < 6; i++) {
      const more = workflow.dag({ id: `ls-more-${i}` });
      more.step("m", add, i, i);
      await workflow.submit(more);
    }
    const many = await workflow.listDags({ ...since, counts: true });
    expect(many).toHaveLength(9);
    expect(many.find((r) => r.meta.id === "ls-held")!.counts).toMatchObject({ total: 3, done: 1, pending: 2, blockedBreakpoints: 1, waitingOnSignals: 1 });
    expect(many.find((r) => r.meta.id === "ls-ok")!.counts).toMatchObject({ total: 1, done: 1 });
    expect(many.filter((r) => r.meta.id.startsWith("ls-more-")).every((r) => r.counts!.total === 1)).toBe(true);

    // A record something else broke is skipped by the listing and reported by the watch.
    const kv = await broker.kv("ebind-dags");
    await kv.put("broken.meta", new TextEncoder().encode("{not json"));
    await kv.put("ls-ok.step.broken", new TextEncoder().encode("{not json"));
    const after = await workflow.listDags({ ...since, counts: true });
    expect(after.map((r) => r.meta.id).slice(-3)).toEqual(["ls-held", "ls-bad", "ls-ok"]);
    expect(after.find((r) => r.meta.id === "ls-ok")!.counts).toMatchObject({ total: 1, done: 1 });

    // Each listing reads through a watch: its server-side consumer must not outlive it (a dashboard
    // lists on every change; the client alone leaves them for minutes).
    const consumers = async (): Promise<number> => (await broker.streamState("KV_ebind-dags"))?.consumers ?? 0;
    const before = await consumers();
    for (let i = 0; i < 5; i++) await workflow.listDags({ counts: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(await consumers()).toBe(before);
  });

  it("watch yields the current records, marks when caught up, then follows changes; getStep and storedResult read one step", async () => {
    const { workflow, registry, run, untilStatus, broker } = await env();
    registry.register(add);
    const first = workflow.dag({ id: "w-first" });
    first.step("a", add, 2, 3);
    await workflow.submit(first);
    const kv = await broker.kv("ebind-dags");
    await kv.put("w-first.junk", new TextEncoder().encode("x"));

    const ac = new AbortController();
    const seen: DagChange[] = [];
    let caughtUpAt = -1;
    const done = (async () => {
      for await (const c of workflow.watch({ dagId: "w-first", signal: ac.signal, onCaughtUp: () => (caughtUpAt = seen.length) })) {
        seen.push(c);
        if (c.type === "step" && c.step?.status === "done") ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    expect(caughtUpAt).toBe(3); // meta, step, junk: no result yet (no worker ran)
    expect(seen.slice(0, 3).map((c) => c.type)).toEqual(["meta", "step", "invalid"]);
    expect(seen[2]).toMatchObject({ type: "invalid", key: "w-first.junk" });
    await run();
    await untilStatus("w-first", "done");
    await done;
    const steps = seen.filter((c): c is Extract<DagChange, { type: "step" }> => c.type === "step").map((c) => c.step?.status);
    expect(steps[0]).toBe("running"); // submit starts the roots
    expect(steps.at(-1)).toBe("done");
    expect(seen.some((c) => c.type === "result" && c.stepId === "a" && !c.deleted)).toBe(true);

    const step = await workflow.getStep("w-first", "a");
    expect(step).toMatchObject({ stepId: "a", status: "done", revision: expect.any(Number) as number });
    expect(await workflow.getStep("w-first", "nope")).toBeNull();
    expect(new TextDecoder().decode(await workflow.storedResult("w-first", "a"))).toBe("5");
    expect(await workflow.storedResult("w-first", "nope")).toBeUndefined();
    await expect(workflow.getStep("w.first", "a")).rejects.toMatchObject({ code: "invalid_argument" });
  });
});
