/**
 * `worker.health()` (issue 17): liveness and readiness with their conditions, one truth for the
 * probes of `ebind/observe` and for users; `worker.consumers()` names the durables it pulls from.
 */
import { expect, it } from "vitest";
import { claimDurable, DEFAULT_WORKER_DURABLE, TASK_STREAM } from "../../../src/broker/index.js";
import { defineHandler, ErrKind, type TaskError } from "../../../src/task/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually, useQueueEnv } from "../../support/queue.js";

describeBackends("worker health", (backend) => {
  const env = useQueueEnv(backend);

  it("is live and ready while running, names its durables, and is not ready once closed", async () => {
    const { startWorker } = await env();
    const worker = await startWorker({ workerId: "w-health", claims: ["gpu"], concurrency: 3 });
    await eventually(() => worker.consumers().length === 3, "the claim consumers opened");
    expect(worker.health()).toEqual({ live: true, ready: true, running: true, connected: true, consuming: true, outcomesStored: true, abandoned: [] });
    expect(worker.ready).toBe(true);
    expect(worker.freeSlots).toBe(3);
    expect(worker.consumers()[0]).toEqual({ stream: TASK_STREAM, durable: DEFAULT_WORKER_DURABLE });
    expect(worker.consumers().map((c) => c.durable).sort()).toEqual([DEFAULT_WORKER_DURABLE, claimDurable("gpu"), claimDurable("worker:w-health")].sort());
    await worker.close();
    expect(worker.health()).toMatchObject({ live: true, ready: false, running: false });
    expect(worker.ready).toBe(false);
  });

  it("is not live while a handler that ignored its abort past deadline and grace still runs, naming its task", async () => {
    const { registry, client, startWorker } = await env();
    let release: (() => void) | undefined;
    const deaf = defineHandler("test.deafToAbort", async () => new Promise<string>((resolve) => (release = () => resolve("late"))));
    registry.register(deaf);
    const worker = await startWorker({ abortGraceMs: 200 });
    const hung = await client.enqueueWith(deaf, { timeoutMs: 1000 });
    const err = (await hung.result({ timeoutMs: 5000 }).catch((e: unknown) => e)) as TaskError;
    expect(err.kind).toBe(ErrKind.Deadline);
    await eventually(() => !worker.health().live, "not live once the handler was abandoned");
    const health = worker.health();
    expect(health.ready).toBe(true); // it still takes tasks: the slot was given back
    expect(health.abandoned).toMatchObject([{ taskId: hung.id, name: "test.deafToAbort", attempt: 1, abortedBecause: "deadline" }]);
    release!();
    await eventually(() => worker.health().live, "live again once the handler returned");
  });
});
