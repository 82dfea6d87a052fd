/**
 * DLQ operations on a real nats-server: reference §7 items 42–44; garbage on a task subject.
 */
import { expect, it } from "vitest";
import { DLQ_STREAM, TASK_STREAM } from "../../../src/broker/index.js";
import { getDeadLetter, listDeadLetters, purgeDeadLetters, requeueDeadLetter } from "../../../src/dlq/index.js";
import { decodeTask, defineHandler, EbindError } from "../../../src/task/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually, expectEmpty, useQueueEnv } from "../../support/queue.js";
import { echo } from "../../support/handlers/common.js";

describeBackends("task queue: dead letters", (backend) => {
  const env = useQueueEnv(backend);

  it("a terminal failure's entry keeps the message; requeue runs the task again and deletes the entry (§7.42, §7.44)", async () => {
    const { broker, registry, client, startWorker } = await env();
    let calls = 0;
    let fail = true;
    const forced = defineHandler("test.forced", async (_ctx, n: number) => {
      calls++;
      if (fail) throw new Error("forced fail");
      return n * 2;
    });
    registry.register(forced);
    await startWorker({ maxDeliver: 1 });
    const future = await client.enqueueWith(forced, { retryPolicy: { maximumAttempts: 1 } }, 21);
    await future.result({ timeoutMs: 5000 }).catch(() => undefined);
    const [letter] = await listDeadLetters(broker);
    expect(letter?.entry?.error.message).toBe("forced fail");
    const before = letter!.entry!.task;

    fail = false;
    const requeued = await requeueDeadLetter(broker, letter!.seq);
    expect(requeued).toMatchObject({ seq: letter!.seq, taskId: future.id, name: "test.forced" });
    await eventually(() => calls === 2, "the requeued task ran again");
    await expect(getDeadLetter(broker, letter!.seq)).rejects.toThrow("dlq: entry not found");
    expect(await listDeadLetters(broker)).toHaveLength(0);
    expect(before).toMatchObject({ id: future.id, name: "test.forced", payload: "[21]", attempt: 1 });
  });

  it("a requeued task keeps its fields, resets attempt and enqueued_at, clears worker_id, and is not deduplicated (§7.44)", async () => {
    const { broker, registry, client, startWorker } = await env();
    const fails = defineHandler("test.failsOnce44", async () => {
      throw new Error("nope");
    });
    registry.register(fails);
    const worker = await startWorker({ maxDeliver: 1 });
    const future = await client.enqueueWith(fails, { retryPolicy: { maximumAttempts: 1 }, traceCtx: { traceparent: "00-abc-def-01" } });
    await future.result({ timeoutMs: 5000 }).catch(() => undefined);
    await worker.close();
    const [letter] = await listDeadLetters(broker);
    const original = letter!.entry!.task;
    expect(original.workerId).toBe(worker.id);
    // Requeue within the 5-minute dedupe window of the task id.
    await requeueDeadLetter(broker, letter!.seq);
    const state = await broker.streamState(TASK_STREAM);
    expect(state?.messages).toBe(1);
    const msg = await broker.getMessage(TASK_STREAM, state!.lastSeq);
    const task = decodeTask(msg!.data);
    expect(task).toMatchObject({
      id: original.id,
      name: original.name,
      payload: original.payload,
      replyTo: original.replyTo,
      retryPolicy: original.retryPolicy,
      traceCtx: { traceparent: "00-abc-def-01" },
      attempt: 0,
    });
    expect(task.workerId).toBeUndefined();
    expect(task.enqueuedAt.getTime()).toBeGreaterThanOrEqual(original.enqueuedAt.getTime());
    expect(msg?.headers.get("Nats-Msg-Id")).not.toBe(original.id);
  });

  it("getting or requeueing a sequence that does not exist fails with not_found (§7.43)", async () => {
    const { broker } = await env();
    const err = await requeueDeadLetter(broker, 99_999).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EbindError);
    expect((err as EbindError).code).toBe("not_found");
    expect((err as EbindError).message).toContain("dlq: entry not found");
    await expect(getDeadLetter(broker, 0)).rejects.toThrow("dlq: seq must be a positive integer, got 0");
  });

  it("list is newest first with a limit; purge empties it", async () => {
    const { broker, registry, client, startWorker } = await env();
    const fails = defineHandler("test.failsList", async (_ctx, n: number) => {
      throw new Error(`fail ${n}`);
    });
    registry.register(fails);
    await startWorker({ maxDeliver: 1 });
    for (let i = 0; i < 3; i++) await (await client.enqueueWith(fails, { retryPolicy: { maximumAttempts: 1 } }, i)).result({ timeoutMs: 5000 }).catch(() => undefined);
    const all = await listDeadLetters(broker, { limit: 0 });
    expect(all.map((l) => l.entry?.error.message)).toEqual(["fail 2", "fail 1", "fail 0"]);
    expect(await listDeadLetters(broker, { limit: 2 })).toHaveLength(2);
    expect(await purgeDeadLetters(broker)).toBe(3);
    expect((await broker.streamState(DLQ_STREAM))?.messages).toBe(0);
  });

  it("garbage bytes on a task subject end in the DLQ as decode, and the worker keeps serving", async () => {
    const { broker, registry, client, startWorker } = await env();
    registry.register(echo);
    await startWorker();
    await broker.publish("TASKS.test.echo", new TextEncoder().encode("\u0000\u0001 not json {"), { msgId: "garbage-1" });
    await broker.publish("TASKS.test.echo", new Uint8Array([0xff, 0xfe, 0xfd]), { msgId: "garbage-2" });
    await broker.publish("TASKS.test.echo", new TextEncoder().encode('{"id":"x","name":"test.echo","payload":"not an array"}'), { msgId: "garbage-3" });
    expect(await (await client.enqueue(echo, "still here")).result({ timeoutMs: 5000 })).toBe("echo:still here");
    await eventually(async () => (await listDeadLetters(broker)).length === 3, "three DLQ entries");
    const letters = await listDeadLetters(broker);
    for (const l of letters) {
      expect(l.subject).toBe("DLQ.test.echo");
      expect(l.entry?.error.kind).toBe("decode");
      expect(l.entry?.error.retryable).toBe(false);
      expect(l.entry?.error.message).toMatch(/^invalid task envelope on TASKS\.test\.echo \(stream seq \d+\): /);
    }
    expect(letters.map((l) => l.entry?.task.id).sort()).toEqual(["garbage-1", "garbage-2", "garbage-3"]);
    await expectEmpty(broker, TASK_STREAM);
  });
});
