/**
 * Pausing one task name across every worker (issue 11, "Beyond ebind"; src/broker/parking.ts), over
 * both backends: durable, seen by every worker, tasks stay queued (parked) — none is lost,
 * dead-lettered or charged an attempt while paused — and resume runs them.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { PARKED_STREAM, TASK_STREAM, DLQ_STREAM } from "../../../src/broker/index.js";
import { listPausedTasks, pauseTask, resumeTask } from "../../../src/client/index.js";
import { defineHandler, TaskError } from "../../../src/task/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually, useQueueEnv } from "../../support/queue.js";

describeBackends("task-name pause", (backend) => {
  const env = useQueueEnv(backend);

  it("a paused name's tasks are parked on every worker, not run, not dead-lettered; resume runs each once at attempt 1", async () => {
    const { broker, registry, client, startWorker } = await env();
    const runs: number[] = [];
    const other: string[] = [];
    const charge = defineHandler("pause.charge", async (ctx, n: number) => {
      runs.push(ctx.attempt);
      return n * 10;
    });
    const ping = defineHandler("pause.ping", async (_ctx, s: string) => {
      other.push(s);
      return s;
    });
    registry.register(charge);
    registry.register(ping);
    await startWorker({ concurrency: 4 });
    await startWorker({ concurrency: 4 });
    await pauseTask(broker, charge);
    await sleep(300); // every worker's watch has it by now (it is push; this is generous)
    const futures = await Promise.all(Array.from({ length: 20 }, (_, i) => client.enqueue(charge, i)));
    // Another name keeps running meanwhile.
    expect(await (await client.enqueue(ping, "still running")).result({ timeoutMs: 5000 })).toBe("still running");
    await eventually(async () => (await broker.streamState(PARKED_STREAM))?.messages === 20, "20 tasks parked");
    expect(runs).toEqual([]);
    // Each task left the queue once parked (acks are sent asynchronously, in batches).
    await eventually(async () => (await broker.streamState(TASK_STREAM))?.messages === 0, "the queue emptied");
    expect((await broker.streamState(DLQ_STREAM))?.messages).toBe(0);
    expect((await listPausedTasks(broker)).map((p) => p.name)).toEqual(["pause.charge"]);

    const resumed = await resumeTask(broker, "pause.charge");
    expect(resumed).toEqual({ wasPaused: true, moved: 20 });
    const results = await Promise.all(futures.map((f) => f.result({ timeoutMs: 10_000 })));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
    expect(runs).toHaveLength(20);
    expect(new Set(runs)).toEqual(new Set([1])); // parking spent no attempt
    expect((await broker.streamState(PARKED_STREAM))?.messages).toBe(0);
    expect(await listPausedTasks(broker)).toEqual([]);
  });

  it("a pause outlives the workers: one started after it parks the name's tasks", async () => {
    const { broker, registry, client, startWorker } = await env();
    let runs = 0;
    const job = defineHandler("pause.later", async (_ctx, n: number) => {
      runs++;
      return n;
    });
    registry.register(job);
    await pauseTask(broker, job); // no worker runs yet: the pause is in KV
    const future = await client.enqueue(job, 7);
    await startWorker();
    await eventually(async () => (await broker.streamState(PARKED_STREAM))?.messages === 1, "the task parked by the late worker");
    await sleep(300);
    expect(runs).toBe(0);
    expect((await resumeTask(broker, job)).moved).toBe(1);
    expect(await future.result({ timeoutMs: 5000 })).toBe(7);
    expect(runs).toBe(1);
  });

  it("attempts made before a pause are carried through it: the retry policy's count is kept", async () => {
    const { broker, registry, client, startWorker } = await env();
    const attempts: number[] = [];
    const flaky = defineHandler("pause.flaky", async (ctx) => {
      attempts.push(ctx.attempt);
      throw new TaskError("transient", `attempt ${ctx.attempt}`, { retryable: true });
    });
    registry.register(flaky);
    await startWorker();
    const future = await client.enqueueWith(flaky, { retryPolicy: { initialIntervalMs: 800, backoffCoefficient: 1, maximumAttempts: 3 } });
    await eventually(() => attempts.length === 1, "the first attempt fails");
    await pauseTask(broker, flaky); // during the retry backoff
    await eventually(async () => (await broker.streamState(PARKED_STREAM))?.messages === 1, "the retry parked");
    await sleep(1000);
    expect(attempts).toEqual([1]);
    expect((await resumeTask(broker, flaky)).moved).toBe(1);
    const outcome = await future.outcome({ timeoutMs: 10_000 });
    expect(outcome.error?.kind).toBe("transient");
    expect(attempts).toEqual([1, 2, 3]); // 3 attempts in all, as the policy says: parking spent none
    expect(outcome.attempts).toBe(3);
    expect((await broker.streamState(DLQ_STREAM))?.messages).toBe(1);
  });

  it("pausing twice keeps the first pause; resuming a name not paused moves nothing; bad names are refused", async () => {
    const { broker } = await env();
    const a = await pauseTask(broker, "pause.twice");
    await sleep(5);
    const b = await pauseTask(broker, "pause.twice");
    expect(b.pausedAt.getTime()).toBe(a.pausedAt.getTime());
    expect(await resumeTask(broker, "pause.twice")).toEqual({ wasPaused: true, moved: 0 });
    expect(await resumeTask(broker, "pause.never")).toEqual({ wasPaused: false, moved: 0 });
    for (const bad of ["", "a b", "a.*", "a..b"]) {
      await expect(pauseTask(broker, bad)).rejects.toMatchObject({ code: "invalid_argument" });
    }
  });

  it("tasks parked by a worker while the resume was already moving are moved back by that worker", async () => {
    const { broker, registry, client, startWorker } = await env();
    let runs = 0;
    const job = defineHandler("pause.race", async (_ctx, n: number) => {
      runs++;
      return n;
    });
    registry.register(job);
    await startWorker({ concurrency: 8 });
    await startWorker({ concurrency: 8 });
    await pauseTask(broker, job);
    await sleep(300);
    const futures = await Promise.all(Array.from({ length: 50 }, (_, i) => client.enqueue(job, i)));
    await sleep(20); // some parked, some on their way
    await resumeTask(broker, job);
    const results = await Promise.all(futures.map((f) => f.result({ timeoutMs: 15_000 })));
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(runs).toBe(50);
    await eventually(async () => (await broker.streamState(PARKED_STREAM))?.messages === 0, "nothing left parked");
  });

  it("a worker started with taskPauses: false runs a paused name's tasks (as ebind for Go does)", async () => {
    const { broker, registry, client, startWorker } = await env();
    const echo = defineHandler("pause.legacy", async (_ctx, s: string) => s);
    registry.register(echo);
    await pauseTask(broker, echo);
    await startWorker({ taskPauses: false });
    expect(await (await client.enqueue(echo, "ran")).result({ timeoutMs: 5000 })).toBe("ran");
    await resumeTask(broker, echo);
  });

  it("several resumes at once, racing the workers' own moves, never fail; every task runs once (a new user saw consumer not found)", async () => {
    const { broker, registry, client, startWorker } = await env();
    let runs = 0;
    const job = defineHandler("pause.concurrent", async (_ctx, n: number) => {
      runs++;
      return n;
    });
    registry.register(job);
    await startWorker({ concurrency: 8 });
    await startWorker({ concurrency: 8 });
    const futures = [];
    for (let round = 0; round < 5; round++) {
      await pauseTask(broker, job);
      await sleep(100);
      for (let i = 0; i < 6; i++) futures.push(await client.enqueue(job, round * 10 + i));
      await sleep(150);
      const outcomes = await Promise.allSettled([resumeTask(broker, job), resumeTask(broker, job), resumeTask(broker, job)]);
      expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
    }
    const results = await Promise.all(futures.map((f) => f.result({ timeoutMs: 15_000 })));
    expect(results).toHaveLength(30);
    expect(runs).toBe(30);
    expect((await broker.streamState(DLQ_STREAM))?.messages).toBe(0);
  });
});
