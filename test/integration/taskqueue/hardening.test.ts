/**
 * What a new user broke, pinned: outcomes that cannot be published, targets that contradict their
 * subject, shared consumer settings, racing requeues, requeue deadlines, prompt shutdown.
 */
import { expect, it } from "vitest";
import { DLQ_STREAM, TASK_STREAM } from "../../../src/broker/index.js";
import { listDeadLetters, requeueDeadLetter } from "../../../src/dlq/index.js";
import { memoryBroker } from "../../../src/memory/index.js";
import { ensureStreams } from "../../../src/broker/index.js";
import { decodeTask, defineHandler, encodeTask, Registry, TaskError } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually, expectEmpty, useQueueEnv } from "../../support/queue.js";
import { echo } from "../../support/handlers/common.js";
import { recordingLogger } from "../../support/logger.js";

describeBackends("task queue: hardening", (backend) => {
  const env = useQueueEnv(backend);

  it("a result too large for a response fails the task with kind payload_too_large and dead-letters it, once", async () => {
    const { broker, registry, client, startWorker } = await env();
    let calls = 0;
    const big = defineHandler("test.bigResult", async (_ctx, n: number) => {
      calls++;
      return "y".repeat(n);
    });
    registry.register(big);
    await startWorker();
    const err = (await (await client.enqueue(big, broker.maxPayloadBytes + 10)).result({ timeoutMs: 5000 }).catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.kind).toBe("payload_too_large");
    expect(err.detail).toMatch(/makes a response of \d+ bytes, more than the server's max payload of \d+ bytes/);
    expect(calls).toBe(1);
    await eventually(async () => (await listDeadLetters(broker)).length === 1, "one DLQ entry");
    await expectEmpty(broker, TASK_STREAM);
  });

  it("an error message of a megabyte is cut to fit and the failure is recorded once", async () => {
    const { broker, registry, client, startWorker } = await env();
    let calls = 0;
    const loud = defineHandler("test.loudFailure", async () => {
      calls++;
      throw new TaskError("invalid", "x".repeat(1_100_000), { retryable: false });
    });
    registry.register(loud);
    await startWorker();
    const err = (await (await client.enqueue(loud)).result({ timeoutMs: 5000 }).catch((e: unknown) => e)) as TaskError;
    expect(err.kind).toBe("invalid");
    expect(err.detail).toMatch(/… \(1091808 more characters cut\)$/);
    expect(calls).toBe(1);
    const [letter] = await listDeadLetters(broker);
    expect(letter?.entry?.error.message.length).toBeLessThan(9000);
  });

  it("an untargeted subject carrying a targeted envelope (or the reverse) is dead-lettered, not nak'ed forever", async () => {
    const { broker, registry, startWorker } = await env();
    registry.register(echo);
    await startWorker({ claims: ["gpu"] });
    const task = (target?: string) =>
      new TextEncoder().encode(encodeTask({ id: `t-${target ?? "none"}`, name: "test.echo", payload: '["x"]', enqueuedAt: new Date(), attempt: 0, target }));
    await broker.publish("TASKS.test.echo", task("nobody-holds-this"), { msgId: "m1" });
    await broker.publish("TASKS_TARGET.Z3B1.test.echo", task("other"), { msgId: "m2" }); // token of "gpu", envelope says "other"
    await broker.publish("TASKS_TARGET.Z3B1.test.echo", task(undefined), { msgId: "m3" });
    await eventually(async () => (await listDeadLetters(broker)).length === 3, "three DLQ entries");
    // Each entry keeps the task's own id and payload, and the message's original bytes.
    const letters = await listDeadLetters(broker);
    const byId = new Map(letters.map((l) => [l.entry!.task.id, l.entry!.error.message]));
    expect(byId.get("t-nobody-holds-this")).toMatch(/task targeted at "nobody-holds-this" arrived on the untargeted subject TASKS\.test\.echo/);
    expect(byId.get("t-other")).toMatch(/target "other" does not match subject TASKS_TARGET\.Z3B1\.test\.echo/);
    expect(byId.get("t-none")).toMatch(/an untargeted task arrived on the targeted subject TASKS_TARGET\.Z3B1\.test\.echo/);
    for (const l of letters) {
      expect(l.entry?.task.payload).toBe('["x"]');
      expect(decodeTask(l.entry!.raw!.data).id).toBe(l.entry!.task.id);
    }
    await expectEmpty(broker, TASK_STREAM);
  });

  it("a reply_to in RESP. that could never be published to is dead-lettered before the handler runs", async () => {
    const { broker, registry, startWorker } = await env();
    let runs = 0;
    registry.register(defineHandler("test.counted", async (_ctx, _s: string) => void runs++));
    await startWorker();
    const bad = ["RESP.", "RESP..x", "RESP.a b.c", "RESP.c.*", `RESP.c.${"x".repeat(2000)}`];
    for (const [i, replyTo] of bad.entries()) {
      const body = encodeTask({ id: `r${i}`, name: "test.counted", payload: '["x"]', enqueuedAt: new Date(), attempt: 0, replyTo });
      await broker.publish("TASKS.test.counted", new TextEncoder().encode(body), { msgId: `r${i}` });
    }
    await eventually(async () => (await listDeadLetters(broker)).length === bad.length, "a DLQ entry per bad reply_to");
    for (const l of await listDeadLetters(broker)) {
      expect(l.entry?.error.kind).toBe("decode");
      expect(l.entry?.error.message).toMatch(/reply_to (".*" is not a response subject RESP\.<client>\.<task>|of 2007 characters is longer than 1024)/);
    }
    expect(runs).toBe(0);
    await expectEmpty(broker, TASK_STREAM);
  });

  it("a worker keeps the shared consumer's settings unless told to update them", async () => {
    const { broker, registry, startWorker } = await env();
    registry.register(echo);
    await startWorker({ ackWaitMs: 30_000 });
    const logger = recordingLogger();
    await startWorker({ ackWaitMs: 1000, logger });
    expect((await broker.consumerSpec(TASK_STREAM, "ebind-worker"))?.ackWaitMs).toBe(30_000);
    expect(logger.lines.some(([level, m]) => level === "warn" && m.includes("keeps its settings: ackWaitMs 30000 (this worker asked for 1000)"))).toBe(true);
    await startWorker({ ackWaitMs: 2000, updateConsumer: true, logger });
    expect((await broker.consumerSpec(TASK_STREAM, "ebind-worker"))?.ackWaitMs).toBe(2000);
  });

  /** A task that failed once (non-retryable) and sits in the DLQ; it succeeds when run again. */
  async function deadLetteredOnce(name: string) {
    const { broker, registry, client, startWorker } = await env();
    let calls = 0;
    const once = defineHandler(name, async () => {
      if (++calls === 1) throw new TaskError("nope", "first time", { retryable: false });
      return "ok";
    });
    registry.register(once);
    await startWorker();
    await (await client.enqueue(once)).result({ timeoutMs: 5000 }).catch(() => undefined);
    const [letter] = await listDeadLetters(broker);
    return { broker, letter, runs: () => calls };
  }

  it("two requeues of one entry racing each other run the task once", async () => {
    const { broker, letter, runs } = await deadLetteredOnce("test.requeueRace");
    const outcomes = await Promise.allSettled([requeueDeadLetter(broker, letter!.seq), requeueDeadLetter(broker, letter!.seq)]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    await eventually(() => runs() === 2, "the requeued task ran");
    await expectEmpty(broker, TASK_STREAM);
    expect(runs()).toBe(2);
    expect((await broker.streamState(DLQ_STREAM))?.messages).toBe(0);
  });

  it("a requeue interrupted between publishing the task and removing the entry completes when run again (a new user's kill -9 left an entry no requeue could clear)", async () => {
    const { broker, letter, runs } = await deadLetteredOnce("test.requeueCrash");
    // The process dies after the publish, before the entry is removed.
    const crashing = new Proxy(broker, {
      get(target, prop) {
        if (prop === "deleteMessage") return async () => Promise.reject(new Error("killed"));
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    await expect(requeueDeadLetter(crashing, letter!.seq)).rejects.toThrow("killed");
    expect((await broker.streamState(DLQ_STREAM))?.messages).toBe(1);
    const again = await requeueDeadLetter(broker, letter!.seq);
    expect(again).toMatchObject({ seq: letter!.seq, name: "test.requeueCrash" });
    await eventually(() => runs() === 2, "the requeued task ran");
    await expectEmpty(broker, TASK_STREAM);
    expect(runs()).toBe(2); // the task was stored once
    expect((await broker.streamState(DLQ_STREAM))?.messages).toBe(0);
  });

  it("a requeue can drop a deadline that has passed", async () => {
    const { broker, registry, client, startWorker } = await env();
    let calls = 0;
    const late = defineHandler("test.late", async () => ++calls);
    registry.register(late);
    await startWorker();
    const future = await client.enqueueWith(late, { deadline: new Date(Date.now() - 1) });
    await future.result({ timeoutMs: 5000 }).catch(() => undefined);
    const [letter] = await listDeadLetters(broker);
    expect(letter?.entry?.error.kind).toBe("deadline");
    await expect(requeueDeadLetter(broker, letter!.seq, { deadline: new Date(Number.NaN) })).rejects.toThrow("deadline must be a valid Date or null");
    await requeueDeadLetter(broker, letter!.seq, { deadline: null });
    await eventually(() => calls === 1, "the requeued task ran without its deadline");
  });

  it("a task published while a worker closes reaches the next worker, not the ack wait of a dead pull", async () => {
    const { broker, registry, client } = await env();
    registry.register(echo);
    const first = await Worker.start(broker, registry, { logger: recordingLogger(), ackWaitMs: 30_000, pullExpiresMs: 1000 });
    const closing = first.close(); // drains its pull in progress, nak'ing what still arrives
    const future = await client.enqueue(echo, "during close");
    await closing;
    const second = await Worker.start(broker, registry, { logger: recordingLogger(), ackWaitMs: 30_000, pullExpiresMs: 1000 });
    try {
      // Had the first worker dropped its pull, the task would wait out the 30 s ack wait.
      expect(await future.result({ timeoutMs: 10_000 })).toBe("echo:during close");
    } finally {
      await second.close();
    }
  });
});

it("a raw task too large for its DLQ entry is recorded without its payload, saying so", async () => {
  const broker = memoryBroker({ maxPayloadBytes: 64 * 1024 });
  await ensureStreams(broker);
  const registry = new Registry();
  registry.register(defineHandler("test.rejectAll", async (_ctx, _s: string) => {
    throw new TaskError("invalid", "no", { retryable: false });
  }));
  const worker = await Worker.start(broker, registry, { logger: recordingLogger() });
  try {
    // Published raw (the client would refuse it): the payload leaves no room for a DLQ entry.
    // One fixed time: the encoded length of a time depends on its trailing zero digits.
    const enqueuedAt = new Date();
    const envelope = (n: number): string =>
      encodeTask({ id: "raw-big", name: "test.rejectAll", payload: JSON.stringify(["q".repeat(n)]), enqueuedAt, attempt: 0 });
    const overhead = envelope(0).length;
    const body = envelope(64 * 1024 - overhead - 10); // 10 bytes under the limit: the task fits, its DLQ entry cannot
    expect(body.length).toBe(64 * 1024 - 10);
    await broker.publish("TASKS.test.rejectAll", new TextEncoder().encode(body), { msgId: "raw-big" });
    await eventually(async () => (await listDeadLetters(broker)).length === 1, "a DLQ entry");
    const [letter] = await listDeadLetters(broker);
    expect(letter?.entry?.task.payload).toBe("[]");
    expect(letter?.entry?.error.message).toMatch(/^\(payload of \d+ characters left out: the entry would exceed the server's max payload\) no$/);
    await expectEmpty(broker, TASK_STREAM);
  } finally {
    await worker.close();
    await broker.close();
  }
});
