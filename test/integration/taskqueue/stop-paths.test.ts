/**
 * One attempt, one outcome (issue 12): the stop paths of a worker — a shutdown that hands a running
 * task back, a handler that ignores its abort, a handler that never settles, middleware time after
 * the handler returned, per-attempt timeouts — each ends a task in exactly one terminal record.
 * Each case was written to reproduce a failure first.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { DLQ_STREAM, RESPONSE_STREAM, type Broker } from "../../../src/broker/index.js";
import { listDeadLetters, requeueDeadLetter } from "../../../src/dlq/index.js";
import { decodeResponse } from "../../../src/task/codec.js";
import { defineHandler, encodeTask, ErrKind, Registry, TaskError, type TaskResponse } from "../../../src/task/index.js";
import type { Middleware } from "../../../src/worker/index.js";
import { connectNats } from "../../../src/nats/index.js";
import { describeBackends } from "../../support/backends.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { eventually, useQueueEnv } from "../../support/queue.js";

/** Every response stored for `taskId` (the response stream keeps them). */
export async function responsesFor(broker: Broker, taskId: string): Promise<TaskResponse[]> {
  const state = await broker.streamState(RESPONSE_STREAM);
  const out: TaskResponse[] = [];
  if (!state || state.messages === 0) return out;
  for (let seq = state.firstSeq; seq <= state.lastSeq; seq++) {
    const msg = await broker.getMessage(RESPONSE_STREAM, seq);
    if (!msg) continue;
    const response = decodeResponse(msg.data);
    if (response.taskId === taskId) out.push(response);
  }
  return out;
}

async function dlqCount(broker: Broker): Promise<number> {
  return (await broker.streamState(DLQ_STREAM))?.messages ?? 0;
}

function never(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }));
}

describeBackends("task queue: one attempt, one outcome", (backend) => {
  const env = useQueueEnv(backend);

  it("a handler aborted by close() on its last attempt ends in nothing but the hand-back: no DLQ entry, one response", async () => {
    const { broker, registry, client, startWorker } = await env();
    let calls = 0;
    const slowOnce = defineHandler("test.slowOnce", async (ctx) => {
      if (++calls === 1) await never(ctx.signal);
      return "second run";
    });
    registry.register(slowOnce);
    const first = await startWorker({ shutdownGraceMs: 200, workerId: "w-first" });
    const future = await client.enqueueWith(slowOnce, { retryPolicy: { maximumAttempts: 1 } });
    await eventually(() => calls === 1, "the first run started");
    await expect(first.close()).rejects.toThrow(/shutdown timeout after 200 ms, 1 handlers still in flight/);
    await startWorker({ workerId: "w-second" });
    expect(await future.result({ timeoutMs: 10_000 })).toBe("second run");
    await sleep(300);
    expect(await dlqCount(broker)).toBe(0);
    expect(await responsesFor(broker, future.id)).toHaveLength(1);
  });

  it("a handler that ignores the abort and returns after its hand-back publishes nothing", async () => {
    const { broker, registry, client, startWorker } = await env();
    let calls = 0;
    const deaf = defineHandler("test.deaf", async () => {
      if (++calls === 1) {
        await sleep(2500); // ignores its signal; longer than a NATS worker's close (pull expiry + grace)
        return "late";
      }
      return "rerun";
    });
    registry.register(deaf);
    const first = await startWorker({ shutdownGraceMs: 100, workerId: "w-deaf" });
    const future = await client.enqueue(deaf);
    await eventually(() => calls === 1, "the first run started");
    await expect(first.close()).rejects.toThrow(/shutdown timeout/);
    await startWorker({ workerId: "w-rerun" });
    expect(await future.result({ timeoutMs: 10_000 })).toBe("rerun");
    await sleep(2600); // the first run has returned by now
    const responses = await responsesFor(broker, future.id);
    expect(responses.map((r) => r.result)).toEqual(['"rerun"']);
  });

  it("a handler that never settles and ignores its abort gives its slot back after the deadline plus abortGraceMs, and is reported", async () => {
    const { registry, client, startWorker } = await env();
    let calls = 0;
    const stuck = defineHandler("test.stuck", async () => {
      calls++;
      return new Promise<string>(() => undefined);
    });
    const quick = defineHandler("test.quick", async () => "quick");
    registry.register(stuck);
    registry.register(quick);
    const worker = await startWorker({ concurrency: 1, abortGraceMs: 200, shutdownGraceMs: 200 });
    const hung = await client.enqueueWith(stuck, { timeoutMs: 1000 }); // room for the handler to start on a loaded machine
    const err = (await hung.result({ timeoutMs: 5000 }).catch((e: unknown) => e)) as TaskError;
    expect(err.kind).toBe(ErrKind.Deadline);
    expect(await (await client.enqueue(quick)).result({ timeoutMs: 5000 })).toBe("quick");
    expect(worker.abandoned().map((a) => a.taskId)).toEqual([hung.id]);
    await expect(worker.close()).rejects.toThrow(new RegExp(`1 handler did not stop after its abort: task ${hung.id} \\(test\\.stuck\\)`));
    expect(calls).toBe(1);
  });

  it("time middleware spends after the handler returned does not count against the deadline", async () => {
    const { registry, client, startWorker } = await env();
    const fast = defineHandler("test.fastUnderSlowMiddleware", async () => "in time");
    registry.register(fast);
    const slowAfter: Middleware = (next) => async (ctx) => {
      const result = await next(ctx);
      await sleep(1500);
      return result;
    };
    await startWorker({ middleware: [slowAfter] });
    // A deadline the handler meets with room to spare on a loaded machine; the middleware overruns it.
    const future = await client.enqueueWith(fast, { timeoutMs: 1000 });
    expect(await future.result({ timeoutMs: 5000 })).toBe("in time");
  });

  it("attemptTimeoutMs ends one attempt with kind timeout, retryably; the next attempt runs", async () => {
    const { registry, client, startWorker } = await env();
    const seen: string[] = [];
    const firstHangs = defineHandler("test.firstHangs", async (ctx) => {
      if (ctx.attempt === 1) {
        await never(ctx.signal).catch(() => seen.push(String((ctx.signal.reason as TaskError).kind)));
        throw ctx.signal.reason;
      }
      return ctx.attempt;
    });
    registry.register(firstHangs);
    await startWorker();
    const future = await client.enqueueWith(firstHangs, { attemptTimeoutMs: 200, retryPolicy: { maximumAttempts: 3, initialIntervalMs: 10 } });
    expect(await future.result({ timeoutMs: 10_000 })).toBe(2);
    expect(seen).toEqual([ErrKind.Timeout]);
  });

  it("a worker's default attemptTimeoutMs applies to tasks that carry none; the last attempt fails with kind timeout", async () => {
    const { broker, registry, client, startWorker } = await env();
    const hangs = defineHandler("test.alwaysHangs", async (ctx) => never(ctx.signal));
    registry.register(hangs);
    await startWorker({ attemptTimeoutMs: 150 });
    const future = await client.enqueueWith(hangs, { retryPolicy: { maximumAttempts: 2, initialIntervalMs: 10 } });
    const err = (await future.result({ timeoutMs: 10_000 }).catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.kind).toBe(ErrKind.Timeout);
    expect(err.detail).toMatch(/attempt 2 timed out after 150 ms/);
    await eventually(async () => (await dlqCount(broker)) === 1, "one DLQ entry");
  });

  it("a task whose handler this worker lacks is handed back without spending attempts, and waits for a worker that has it", async () => {
    const { broker, registry, client, startWorker } = await env();
    const attempts: number[] = [];
    const rare = defineHandler("test.rare", async (ctx) => {
      attempts.push(ctx.attempt);
      return ctx.attempt;
    });
    registry.register(rare);
    await startWorker({ workerId: "w-without", claimRetryDelayMs: 100 }, new Registry());
    const future = await client.enqueueWith(rare, { retryPolicy: { maximumAttempts: 2 } });
    await sleep(1500); // about 15 hand-backs
    expect(await dlqCount(broker)).toBe(0);
    await startWorker({ workerId: "w-with" });
    expect(await future.result({ timeoutMs: 10_000 })).toBe(1);
    expect(attempts).toEqual([1]);
  });

  it("beside a worker without the handler, every task reaches the one that has it with attempt 1", async () => {
    const { broker, registry, client, startWorker } = await env();
    const attempts: number[] = [];
    const job = defineHandler("test.job", async (ctx, i: number) => {
      attempts.push(ctx.attempt);
      return i;
    });
    registry.register(job);
    await startWorker({ workerId: "w-none", claimRetryDelayMs: 50 }, new Registry());
    await startWorker({ workerId: "w-job" });
    const futures = await Promise.all(Array.from({ length: 20 }, (_, i) => client.enqueueWith(job, { retryPolicy: { maximumAttempts: 1 } }, i)));
    const results = await Promise.all(futures.map((f) => f.result({ timeoutMs: 15_000 })));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(attempts.every((a) => a === 1)).toBe(true);
    expect(await dlqCount(broker)).toBe(0);
  });

  it("a task whose handler no worker has fails at its deadline with kind deadline, never unknown_handler", async () => {
    const { broker, client, startWorker } = await env();
    const orphan = defineHandler("test.orphan", async () => "never");
    await startWorker({ workerId: "w-lacks", claimRetryDelayMs: 100 }, new Registry());
    const future = await client.enqueueWith(orphan, { timeoutMs: 800 });
    const err = (await future.result({ timeoutMs: 10_000 }).catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.kind).toBe(ErrKind.Deadline);
    await eventually(async () => (await dlqCount(broker)) === 1, "one DLQ entry");
    const [letter] = await listDeadLetters(broker);
    expect(letter?.entry?.error.kind).toBe(ErrKind.Deadline);
  });
});

describeBackends("task queue: one terminal record per task run", (backend) => {
  const env = useQueueEnv(backend);

  /** Publishes the same task run twice, as a stale redelivery would deliver it twice. */
  async function publishTwice(broker: Broker, name: string, replyTo: string): Promise<string> {
    const id = `dup-${name}`;
    const body = new TextEncoder().encode(encodeTask({ id, name, payload: "[]", enqueuedAt: new Date(), attempt: 0, replyTo }));
    await broker.publish(`TASKS.${name}`, body, { msgId: `${id}-a` });
    await broker.publish(`TASKS.${name}`, body, { msgId: `${id}-b` });
    return id;
  }

  it("two completions of one task run store one response: the later one is recognised and dropped", async () => {
    const { broker, registry, startWorker } = await env();
    let runs = 0;
    registry.register(defineHandler("test.twiceOk", async () => ++runs));
    await startWorker({ concurrency: 1 });
    const id = await publishTwice(broker, "test.twiceOk", "RESP.dup-client.dup-test.twiceOk");
    await eventually(() => runs === 2, "both copies ran");
    await sleep(200);
    expect((await responsesFor(broker, id)).map((r) => r.result)).toEqual(["1"]);
  });

  it("a success, then a failure of the same task run: the failure is dropped whole (no DLQ entry beside the success)", async () => {
    const { broker, registry, startWorker } = await env();
    let runs = 0;
    registry.register(defineHandler("test.okThenFails", async () => {
      if (++runs === 1) return "first";
      throw new TaskError("fatal", "second copy", { retryable: false });
    }));
    await startWorker({ concurrency: 1 });
    const id = await publishTwice(broker, "test.okThenFails", "RESP.dup-client.dup-test.okThenFails");
    await eventually(() => runs === 2, "both copies ran");
    await sleep(200);
    expect((await responsesFor(broker, id)).map((r) => r.result)).toEqual(['"first"']);
    expect(await dlqCount(broker)).toBe(0);
  });

  it("two terminal failures of one task run store one DLQ entry and one response", async () => {
    const { broker, registry, startWorker } = await env();
    let runs = 0;
    registry.register(defineHandler("test.twiceFails", async () => {
      runs++;
      throw new TaskError("invalid", `run ${runs}`, { retryable: false });
    }));
    await startWorker({ concurrency: 1 });
    const id = await publishTwice(broker, "test.twiceFails", "RESP.dup-client.dup-test.twiceFails");
    await eventually(() => runs === 2, "both copies ran");
    await sleep(200);
    expect(await dlqCount(broker)).toBe(1);
    expect((await responsesFor(broker, id)).map((r) => r.error?.message)).toEqual(["run 1"]);
  });
});

describeBackends("task queue: nothing lost from bad input", (backend) => {
  const env = useQueueEnv(backend);

  it("bytes that are not an envelope reach the DLQ as they were, and a requeue puts them back on their subject", async () => {
    const { broker, startWorker } = await env();
    await startWorker();
    const garbage = new Uint8Array([0xff, 0x00, 0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a]); // not UTF-8, not JSON
    await broker.publish("TASKS.test.garbage", garbage, { msgId: "g1" });
    await eventually(async () => (await listDeadLetters(broker)).length === 1, "one DLQ entry");
    const [letter] = await listDeadLetters(broker);
    expect(letter?.entry?.error.kind).toBe(ErrKind.Decode);
    expect(letter?.entry?.task.id).toBe("g1");
    expect(letter?.entry?.raw?.subject).toBe("TASKS.test.garbage");
    expect([...letter!.entry!.raw!.data]).toEqual([...garbage]);
    const requeued = await requeueDeadLetter(broker, letter!.seq);
    const again = await broker.getMessage("EBIND_TASKS", requeued.taskSeq).catch(() => null);
    // A worker may already have dead-lettered it again: either way the bytes went back unchanged.
    if (again) expect([...again.data]).toEqual([...garbage]);
    await eventually(async () => (await listDeadLetters(broker)).length === 1, "dead-lettered again, still raw");
    const [second] = await listDeadLetters(broker);
    expect([...second!.entry!.raw!.data]).toEqual([...garbage]);
  });

  it("a targeted task sent on the untargeted subject is dead-lettered with its own id and payload, and a requeue runs it on its target", async () => {
    const { broker, registry, client, startWorker } = await env();
    const seen: string[] = [];
    registry.register(defineHandler("test.onGpu", async (ctx, s: string) => void seen.push(`${ctx.workerId}:${s}`)));
    await startWorker({ workerId: "w-gpu", claims: ["gpu"] });
    void client;
    const body = encodeTask({ id: "misrouted-1", name: "test.onGpu", payload: '["payload kept"]', enqueuedAt: new Date(), attempt: 0, target: "gpu" });
    await broker.publish("TASKS.test.onGpu", new TextEncoder().encode(body), { msgId: "misrouted-1" });
    await eventually(async () => (await listDeadLetters(broker)).length === 1, "one DLQ entry");
    const [letter] = await listDeadLetters(broker);
    expect(letter?.entry?.task.id).toBe("misrouted-1");
    expect(letter?.entry?.task.payload).toBe('["payload kept"]');
    await requeueDeadLetter(broker, letter!.seq);
    await eventually(() => seen.length === 1, "the requeued task ran");
    expect(seen).toEqual(["w-gpu:payload kept"]);
  });
});

describeNats("task queue: a handler that blocks the event loop [nats]", () => {
  const node = useNatsNode();
  const env = useQueueEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });

  it("a handler blocking the event loop for 3× the ack wait runs once and stores one response (heartbeats from another thread)", async () => {
    const { broker, registry, client, startWorker } = await env();
    let runs = 0;
    const blocking = defineHandler("test.blocksLoop", async () => {
      runs++;
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        // a synchronous loop: no timer of this thread can fire
      }
      return runs;
    });
    registry.register(blocking);
    await startWorker({ ackWaitMs: 1000, workerId: "w-block-a" });
    await startWorker({ ackWaitMs: 1000, workerId: "w-block-b" });
    await sleep(1500); // the heartbeat threads are connected
    const future = await client.enqueue(blocking);
    expect(await future.result({ timeoutMs: 15_000 })).toBe(1);
    await sleep(2000); // a redelivery would have run by now
    expect(runs).toBe(1);
    expect(await responsesFor(broker, future.id)).toHaveLength(1);
  });
});

describeNats("task queue: a blocked event loop does not run a queued task twice [nats]", () => {
  const node = useNatsNode();
  const env = useQueueEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });

  it("tasks fetched while a handler blocked the loop past the ack wait run once each, with one outcome each (new-user break test)", async () => {
    const { broker, registry, client, startWorker } = await env();
    const runs = new Map<string, number>();
    const blocker = defineHandler("test.blocker", async () => {
      const until = Date.now() + 4000;
      while (Date.now() < until) {
        // a synchronous loop: the deliveries fetched meanwhile wait in the client
      }
      return "unblocked";
    });
    const ordinary = defineHandler("test.ordinary", async (ctx, tag: string) => {
      runs.set(tag, (runs.get(tag) ?? 0) + 1);
      await sleep(300);
      return `${tag}#${ctx.attempt}`;
    });
    registry.register(blocker);
    registry.register(ordinary);
    // Queued first, so the worker's first pull fetches the blocker and three more at once.
    const first = await client.enqueue(blocker);
    const others: Array<Awaited<ReturnType<typeof client.enqueue<typeof ordinary>>>> = [];
    for (let i = 0; i < 6; i++) others.push(await client.enqueue(ordinary, `t${i}`));
    await startWorker({ concurrency: 4, ackWaitMs: 1000 });
    expect(await first.result({ timeoutMs: 20_000 })).toBe("unblocked");
    const results = await Promise.all(others.map((f) => f.result({ timeoutMs: 20_000 })));
    expect(results.map((r) => r.split("#")[0])).toEqual(["t0", "t1", "t2", "t3", "t4", "t5"]);
    await sleep(2500); // a second copy would have run by now
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    for (const f of others) expect(await responsesFor(broker, f.id)).toHaveLength(1);
    expect(await dlqCount(broker)).toBe(0);
  });
});
