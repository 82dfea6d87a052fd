/**
 * Issue 12: step records mixed clocks — the scheduler writes `startedAt`, a worker on another machine
 * writes `finishedAt` — so with the scheduler's clock 7 minutes ahead of the worker's a step
 * "finished" 7 minutes before it started. The skew is made in this process by faking `Date` (only
 * `Date`: timers run) while the DAG is submitted (the submit starts its roots), and the worker starts
 * only once the clock is real again, so it settles the steps on a clock 7 minutes behind.
 */
import { afterEach, expect, it, vi } from "vitest";
import { describeBackends } from "../../support/backends.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { echoValue, fail } from "../../support/handlers/workflow.js";

const SKEW_MS = 7 * 60_000;

describeBackends("workflow: step times never run backwards across clocks", (backend) => {
  const env = useWorkflowEnv(backend);
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a step started on a clock ahead of its worker's finishes no earlier than it started (done and failed)", async () => {
    const { workflow, registry, startWorker } = await env();
    registry.register(echoValue);
    registry.register(fail);
    const dag = workflow.dag();
    dag.step("ok", echoValue, 1);
    dag.step("bad", fail, "no");
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + SKEW_MS });
    await workflow.submit(dag);
    vi.useRealTimers();
    await startWorker(); // settles the steps on the real clock, 7 minutes behind their start times
    for (;;) {
      const steps = (await workflow.dagInfo(dag.id)).steps;
      if (steps.every((s) => s.status === "done" || s.status === "failed")) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const s of (await workflow.dagInfo(dag.id)).steps) {
      expect(s.startedAt, s.stepId).toBeDefined();
      expect(s.finishedAt!.getTime(), `${s.stepId}: finishedAt ≥ startedAt`).toBeGreaterThanOrEqual(s.startedAt!.getTime());
    }
  });
});
