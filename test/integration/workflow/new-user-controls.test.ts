/**
 * What a fresh new user broke in the workflow controls (issue 11's break test), each reproduced
 * here first, over both backends:
 * 1. a 3,000-character signal name was stored, then broke every read of the DAG on NATS (its KV
 *    subject exceeded the server's control line) and wedged it for good;
 * 2. a signal's schema output was not what got stored: transforms and defaults were lost;
 * 3. cancel() right after the last step finished turned a completed DAG `canceled`;
 * 4. a signal wait's clock ran on while the DAG was paused or the step stood at its breakpoint;
 * 5. steps canceled while paused kept `held: true`;
 * 6. a signal payload over the server's max payload failed with a backend error, not `invalid`;
 * 7. awaitDag's `dag_failed` did not say which step failed;
 * 8. resumeBreakpoint with an undeclared label: `invalid` on a running DAG but 0 on a finished one;
 * 9. a step whose task waits for a claim nobody holds, or whose task name is paused, showed as plain
 *    `running` with nothing saying why.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { z } from "zod";
import { defineHandler } from "../../../src/task/index.js";
import { pauseTask, resumeTask } from "../../../src/client/index.js";
import { defineSignal, formatDebug, signalRef } from "../../../src/workflow/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually } from "../../support/queue.js";
import { rejection, stepOf } from "../../support/workflow-assert.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { echoValue, fail, slowValue } from "../../support/handlers/workflow.js";

describeBackends("workflow: what a new user broke in the controls", (backend) => {
  const env = useWorkflowEnv(backend);

  it("a signal name longer than 256 characters is refused at signal() and when building; nothing is written and the DAG stays readable", async () => {
    const { workflow, registry, run } = await env();
    registry.register(echoValue);
    await run();
    const dag = workflow.dag();
    const s = dag.step("s", echoValue, signalRef("approval"));
    await workflow.submit(dag);
    const long = "n".repeat(3000);
    const err = await rejection(workflow.signal(dag.id, long, 1));
    expect(err.code).toBe("invalid");
    expect(err.message).toMatch(/signal name of 3000 characters is longer than 256/);
    expect(err.message.length).toBeLessThan(400); // the name itself is not repeated in full
    expect(() => workflow.dag().step("w", echoValue, 1).waitForSignal("x".repeat(257))).toThrow(/longer than 256/);
    expect(await workflow.listSignals(dag.id)).toEqual([{ name: "approval", delivered: false, waiting: ["s"] }]);
    expect(await workflow.signal(dag.id, "approval", "ok")).toBe(true);
    expect(await workflow.await(s, { timeoutMs: 5000 })).toBe("ok");
    expect((await workflow.awaitDag(dag.id, { timeoutMs: 5000 })).status).toBe("done");
  });

  it("a signal with a schema delivers the schema's output (trimmed, defaulted, unknown keys stripped), and takes its input", async () => {
    const { workflow, registry, run } = await env();
    const approval = defineSignal("approval", { schema: z.object({ by: z.string().trim().toLowerCase(), level: z.number().default(1) }) });
    const deploy = defineHandler("nu.deploy", async (_ctx, a: { by: string; level: number }) => `by=${a.by} level=${a.level} keys=${Object.keys(a).join(",")}`);
    registry.register(deploy);
    await run();
    const dag = workflow.dag();
    const step = dag.step("deploy", deploy, approval.ref());
    await workflow.submit(dag);
    // The schema's input type: `level` may be left out (it has a default).
    expect(await workflow.signal(dag.id, approval, { by: "  EUGENE " })).toBe(true);
    expect(await workflow.await(step, { timeoutMs: 5000 })).toBe("by=eugene level=1 keys=by,level");
    expect((await workflow.listSignals(dag.id))[0]?.payload).toBe('{"by":"eugene","level":1}');
  });

  it("cancel() after every step finished, before the DAG was finalised, does not cancel it: false, and the DAG ends done", async () => {
    const { workflow, registry, startWorker } = await env();
    registry.register(slowValue);
    await startWorker(); // no scheduler: nobody finalises the DAG
    const dag = workflow.dag();
    const only = dag.step("only", slowValue, 10, "v");
    await workflow.submit(dag);
    expect(await workflow.await(only, { timeoutMs: 5000 })).toBe("v");
    expect((await workflow.dagInfo(dag.id)).meta.status).toBe("running");
    expect(await workflow.cancel(dag.id)).toBe(false);
    expect((await workflow.dagInfo(dag.id)).meta.status).toBe("done");
    expect((await workflow.awaitDag(dag.id, { timeoutMs: 1000 })).status).toBe("done");
  });

  it("a signal wait's clock does not run while the DAG is paused (a resume starts it again) nor while the step stands at its breakpoint", async () => {
    const { workflow, registry, run } = await env();
    registry.register(echoValue);
    await run();
    // Paused: the wait began, the DAG paused past the timeout, and resume restarts the clock.
    const paused = workflow.dag();
    const p = paused.step("p", echoValue, signalRef("go")).signalTimeoutMs(600);
    await workflow.submit(paused);
    await eventually(async () => (await stepOf(workflow, paused.id, "p")).signalWaitSince !== undefined, "the wait began");
    expect(await workflow.pause(paused.id)).toBe("paused");
    await sleep(900);
    expect(await workflow.resume(paused.id)).toBe("running");
    await sleep(200);
    expect((await stepOf(workflow, paused.id, "p")).status).toBe("pending");
    expect(await workflow.signal(paused.id, "go", "in time")).toBe(true);
    expect(await workflow.await(p, { timeoutMs: 5000 })).toBe("in time");
    // At its own before-breakpoint: no clock until released.
    const held = workflow.dag();
    const b = held.step("b", echoValue, signalRef("go")).breakBefore("Inspect").signalTimeoutMs(400);
    await workflow.submit(held, { breakpoints: ["Inspect"] });
    await sleep(800);
    const atBreakpoint = await stepOf(workflow, held.id, "b");
    expect(atBreakpoint).toMatchObject({ status: "pending", bpBefore: "blocked" });
    expect(atBreakpoint.signalWaitSince).toBeUndefined();
    expect(await workflow.resumeBreakpoint(held.id, "Inspect")).toBe(1);
    expect(await workflow.signal(held.id, "go", "after the breakpoint")).toBe(true);
    expect(await workflow.await(b, { timeoutMs: 5000 })).toBe("after the breakpoint");
  });

  it("steps canceled while the DAG was paused are not left held", async () => {
    const { workflow, registry, run } = await env();
    registry.register(echoValue);
    await run();
    const dag = workflow.dag();
    dag.step("w", echoValue, signalRef("never"));
    await workflow.submit(dag);
    expect(await workflow.pause(dag.id)).toBe("paused");
    expect(await workflow.cancel(dag.id)).toBe(true);
    expect(await stepOf(workflow, dag.id, "w")).toMatchObject({ status: "canceled", held: false });
  });

  it("a signal payload larger than the server accepts is invalid, naming the limit; nothing is written", async () => {
    const { workflow, broker, registry, run } = await env();
    registry.register(echoValue);
    await run();
    const dag = workflow.dag();
    dag.step("w", echoValue, signalRef("big"));
    await workflow.submit(dag);
    const err = await rejection(workflow.signal(dag.id, "big", "x".repeat(broker.maxPayloadBytes)));
    expect(err.code).toBe("invalid");
    expect(err.message).toMatch(/payload of \d+ bytes is more than the \d+ bytes a signal may use/);
    expect((await workflow.listSignals(dag.id))[0]).toMatchObject({ name: "big", delivered: false });
  });

  it("awaitDag's dag_failed names the step that failed, its kind and message", async () => {
    const { workflow, registry, run } = await env();
    registry.register(fail);
    await run();
    const dag = workflow.dag({ retry: { maximumAttempts: 1 } });
    dag.step("a", fail, "kaboom");
    await workflow.submit(dag);
    const err = await rejection(workflow.awaitDag(dag.id, { timeoutMs: 5000 }));
    expect(err.code).toBe("dag_failed");
    expect(err.message).toContain('step "a" failed: boom: kaboom');
  });

  it("resumeBreakpoint with a label no step declares is invalid on a finished DAG too", async () => {
    const { workflow, registry, run } = await env();
    registry.register(echoValue);
    await run();
    const dag = workflow.dag();
    dag.step("a", echoValue, 1).breakBefore("Declared");
    await workflow.submit(dag);
    await workflow.awaitDag(dag.id, { timeoutMs: 5000 });
    expect((await rejection(workflow.resumeBreakpoint(dag.id, "Undeclared"))).code).toBe("invalid");
    expect(await workflow.resumeBreakpoint(dag.id, "Declared")).toBe(0);
  });

  it("dagInfo and the debug report say what a queued step's task waits on: a claim nobody holds, a paused task name", async () => {
    const { workflow, broker, registry, run } = await env();
    registry.register(echoValue);
    await run();
    const dag = workflow.dag();
    dag.step("far", echoValue, "x").onTarget("nobody-holds-this");
    await workflow.submit(dag);
    expect((await stepOf(workflow, dag.id, "far")).queued).toEqual({ target: "nobody-holds-this", taskPaused: false });
    await pauseTask(broker, echoValue);
    const other = workflow.dag();
    other.step("paused-name", echoValue, "y");
    await workflow.submit(other);
    await sleep(300); // parked by the worker meanwhile
    expect((await stepOf(workflow, other.id, "paused-name")).queued).toEqual({ target: undefined, taskPaused: true });
    expect(formatDebug(await workflow.debug(other.id))).toContain("queued (task name paused)");
    expect(formatDebug(await workflow.debug(dag.id))).toContain("queued target=nobody-holds-this");
    await resumeTask(broker, echoValue);
    expect((await workflow.awaitDag(other.id, { timeoutMs: 5000 })).status).toBe("done");
    expect((await stepOf(workflow, other.id, "paused-name")).queued).toBeUndefined();
  });
});
