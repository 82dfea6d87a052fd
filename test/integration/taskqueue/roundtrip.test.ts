/**
 * Task queue end to end on a real nats-server: reference §7 items 14, 15, 24–29, 33, 36.
 */
import { expect, it } from "vitest";
import { listDeadLetters } from "../../../src/dlq/index.js";
import { memoryBroker } from "../../../src/memory/index.js";
import { Worker } from "../../../src/worker/index.js";
import { Client } from "../../../src/client/index.js";
import { decodeTask, defineHandler, ErrKind, Registry, TaskError, taskRef, withName, alias, type HandlerContext } from "../../../src/task/index.js";
import { TASK_STREAM } from "../../../src/broker/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually, useQueueEnv } from "../../support/queue.js";
import { add, echo } from "../../support/handlers/common.js";

describeBackends("task queue: round trips", (backend) => {
  const env = useQueueEnv(backend);

  it("enqueue(echo, 'hello') resolves to 'echo:hello' (§7.14)", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(echo);
    await startWorker();
    const future = await client.enqueue(echo, "hello");
    expect(await future.result({ timeoutMs: 5000 })).toBe("echo:hello");
    expect(client.pending).toBe(0);
  });

  it("resultRaw of 2+3 is the bytes 5 and the response carries attempts 1 (§7.15, §7.36)", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(add);
    await startWorker();
    const future = await client.enqueue(add, 2, 3);
    expect(await future.resultRaw({ timeoutMs: 5000 })).toBe("5");
    const response = await future.outcome();
    expect(response.attempts).toBe(1);
    expect(response.taskId).toBe(future.id);
  });

  it("a handler that returns nothing resolves to undefined", async () => {
    const { registry, client, startWorker } = await env();
    const seen: string[] = [];
    const audit = defineHandler("test.audit", async (_ctx, event: string) => {
      seen.push(event);
    });
    registry.register(audit);
    await startWorker();
    const future = await client.enqueue(audit, "login");
    await expect(future.result({ timeoutMs: 5000 })).resolves.toBeUndefined();
    expect(await future.resultRaw()).toBeUndefined();
    expect(seen).toEqual(["login"]);
  });

  it("an unregistered handler spends no attempt: the task waits for a worker that has it, then fails only at its deadline (§7.24, changed by issue 12)", async () => {
    const { broker, client, startWorker } = await env();
    await startWorker({ claimRetryDelayMs: 50 });
    // Handed back to the shared consumer for another worker (a rolling deploy); ebind for Go would
    // dead-letter it as unknown_handler at attempt 1.
    const future = await client.enqueueWith(taskRef<(ctx: HandlerContext, n: number) => number>("test.nobody"), { retryPolicy: { maximumAttempts: 3 }, timeoutMs: 1000 }, 1);
    const err = await future.result({ timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    expect((err as TaskError).kind).toBe(ErrKind.Deadline);
    expect((await future.outcome()).attempts).toBe(1);
    expect((await listDeadLetters(broker)).map((l) => l.entry?.error.kind)).toEqual([ErrKind.Deadline]);
  });

  it("another worker holding the handler gets a task the first worker does not know", async () => {
    const { broker, client, startWorker } = await env();
    await startWorker({ workerId: "w-empty", claimRetryDelayMs: 20 });
    const full = new Registry();
    full.register(echo);
    await startWorker({ workerId: "w-full", claimRetryDelayMs: 20 }, full);
    // Which worker a redelivery reaches is up to the server's rotation over waiting pulls, and the
    // worker lacking the handler frees its slots fastest; a generous attempt budget makes a task
    // bouncing off it every time (p ≤ (2/3)^29 each) negligible.
    const policy = { retryPolicy: { maximumAttempts: 30 } };
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => (await client.enqueueWith(echo, policy, `m${i}`)).result({ timeoutMs: 10_000 })),
    );
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => `echo:m${i}`));
    expect((await broker.streamState("EBIND_DLQ"))?.messages).toBe(0);
  });

  it("enqueueAsync returns a task id and the handler runs (§7.25)", async () => {
    const { registry, client, startWorker } = await env();
    const ran: string[] = [];
    const audit = defineHandler("test.audit2", async (ctx, _event: string) => {
      ran.push(ctx.task.id);
    });
    registry.register(audit);
    await startWorker();
    const id = await client.enqueueAsync(audit, "x");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await eventually(() => ran.includes(id), "the fire-and-forget task ran");
    expect(client.pending).toBe(0);
  });

  it("Client.create and Worker.start fail clearly when the streams are missing (§7.27)", async () => {
    const bare = memoryBroker(); // a broker on which ensureStreams never ran
    await expect(Client.create(bare)).rejects.toThrow('client: response stream "EBIND_RESP" missing (call ensureStreams first)');
    await expect(Worker.start(bare, new Registry())).rejects.toThrow('worker: task stream "EBIND_TASKS" missing (call ensureStreams first)');
    await bare.close();
  });

  it("each client has its own durable ebind-resp-<id>; responses nobody waits for are acked (§7.28)", async () => {
    const { broker, registry, startWorker } = await env();
    registry.register(echo);
    await startWorker();
    const client = await Client.create(broker, { clientId: "client-a" });
    try {
      const state = await broker.streamState("EBIND_RESP");
      expect(state?.consumers).toBeGreaterThanOrEqual(1);
      // A response for a task id nobody waits for.
      await broker.publish("RESP.client-a.not-a-task", new TextEncoder().encode('{"task_id":"not-a-task","attempts":1,"completed_at":"2026-01-01T00:00:00Z"}'));
      const future = await client.enqueue(echo, "after");
      expect(await future.result({ timeoutMs: 5000 })).toBe("echo:after");
    } finally {
      await client.close();
    }
  });

  it("a task is published on TASKS.<name> with Nats-Msg-Id = task id; the same id is deduplicated (§7.29)", async () => {
    const { broker, client } = await env();
    const id = await client.enqueueAsync(echo, "no worker yet");
    const state = await broker.streamState(TASK_STREAM);
    const msg = await broker.getMessage(TASK_STREAM, state!.lastSeq);
    expect(msg?.subject).toBe("TASKS.test.echo");
    expect(msg?.headers.get("Nats-Msg-Id")).toBe(id);
    const task = decodeTask(msg!.data);
    expect(task).toMatchObject({ id, name: "test.echo", payload: '["no worker yet"]', attempt: 0 });
    expect(task.replyTo).toBeUndefined();
    const again = await broker.publish("TASKS.test.echo", msg!.data, { msgId: id });
    expect(again.duplicate).toBe(true);
    expect((await broker.streamState(TASK_STREAM))?.messages).toBe(1);
  });

  it("a handler registered under a name and an alias serves both (§7.33)", async () => {
    const { registry, client, startWorker } = await env();
    const sum = async function sum(_ctx: unknown, a: number, b: number): Promise<number> {
      return a + b;
    };
    registry.register(sum, withName("e2e.Add"), alias("e2e.LegacyAdd"));
    await startWorker();
    const legacy = taskRef<typeof sum>("e2e.LegacyAdd");
    expect(await (await client.enqueue(legacy, 5, 6)).result({ timeoutMs: 5000 })).toBe(11);
    expect(await (await client.enqueue(taskRef<typeof sum>("e2e.Add"), 1, 2)).result({ timeoutMs: 5000 })).toBe(3);
  });

  it("closing the client rejects outstanding futures with a clear error", async () => {
    const { broker } = await env();
    const client = await Client.create(broker);
    const future = await client.enqueue(echo, "never served"); // no worker runs
    await client.close();
    await expect(future.result()).rejects.toThrow(/client closed before task .* finished/);
    await expect(client.enqueue(echo, "x")).rejects.toThrow("ebind: client closed");
  });

  it("a 39-digit integer in the payload reaches the worker byte for byte", async () => {
    const { registry, client, startWorker } = await env();
    const raw = defineHandler("test.rawPayload", async (ctx, _n: number) => ctx.task.payload);
    registry.register(raw);
    await startWorker();
    // The producer cannot hold such a number; publish the envelope as a Go producer would.
    const future = await client.enqueue(raw, 1);
    expect(await future.result({ timeoutMs: 5000 })).toBe("[1]");
  });
});
