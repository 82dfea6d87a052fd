/**
 * Issue 15, a deliberate difference from ebind for Go: a worker started without the workflow's
 * step hook that receives a step's task does not run it (Go's runs the handler, and the step's
 * outcome is never recorded, so the DAG waits for ever). Ours hands the task back without spending
 * an attempt, logs why once a minute, and the step runs on a worker that has the hook.
 */
import { expect, it } from "vitest";
import { defineHandler } from "../../../src/task/index.js";
import { describeBackends } from "../../support/backends.js";
import { recordingLogger } from "../../support/logger.js";
import { stepOf } from "../../support/workflow-assert.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeBackends("workflow: a worker without the step hook", (backend) => {
  const env = useWorkflowEnv(backend);

  it("hands a step's task back, spending no attempt and logging once, until a hooked worker runs it", async () => {
    const { workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    const attempts: number[] = [];
    const double = defineHandler("nohook.double", async (ctx, n: number) => {
      attempts.push(ctx.attempt);
      return n * 2;
    });
    registry.register(double);
    const logger = recordingLogger();
    await startScheduler();
    await startWorker({ workerId: "plain", stepHook: undefined, middleware: [], claimRetryDelayMs: 100, logger });
    const dag = workflow.dag();
    const s = dag.step("s", double, 21);
    await workflow.submit(dag);

    const noHook = () => logger.lines.filter(([level, message]) => level === "warn" && message.includes("has no stepHook"));
    // The first hand-back, then a second more (about 10 more hand-backs at 100 ms), however slow the machine.
    for (const until = Date.now() + 10_000; noHook().length === 0 && Date.now() < until; ) await sleep(20);
    await sleep(1000);
    expect(attempts).toEqual([]);
    const waiting = await stepOf(workflow, dag.id, "s");
    expect(waiting.status).toBe("running");
    expect(waiting.attempt).toBe(0); // no start gate passed
    const warnings = noHook();
    expect(warnings).toHaveLength(1);

    await startWorker({ workerId: "hooked" });
    expect(await workflow.await(s, { timeoutMs: 10_000 })).toBe(42);
    await untilStatus(dag.id, "done");
    expect(attempts).toEqual([1]);
    expect((await stepOf(workflow, dag.id, "s")).workerId).toBe("hooked");
  });
});
