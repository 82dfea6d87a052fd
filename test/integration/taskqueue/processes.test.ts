/**
 * Worker processes killed and many: a SIGKILLed worker's task is redelivered after the ack wait
 * and completes elsewhere; 2,000 tasks over three worker processes all resolve correctly.
 */
import { expect, it } from "vitest";
import { connectNats } from "../../../src/nats/index.js";
import { DEFAULT_WORKER_DURABLE, TASK_STREAM } from "../../../src/broker/index.js";
import { listDeadLetters } from "../../../src/dlq/index.js";
import { ErrKind, TaskError } from "../../../src/task/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { expectEmpty, useQueueEnv } from "../../support/queue.js";
import { useWorkerProcesses } from "../../support/processes.js";
import { slow, square } from "../../support/handlers/common.js";

describeNats("task queue: worker processes", () => {
  const node = useNatsNode();
  const env = useQueueEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });
  const startProcess = useWorkerProcesses();

  it("a worker killed with SIGKILL mid-task: the task is redelivered after the ack wait and its future resolves", async () => {
    const { client } = await env();
    const first = await startProcess(node().url, "victim", { ackWaitMs: 1500 });
    const future = await client.enqueue(slow, 2000, "survivor");
    await first.waitFor(/^ran /, 10_000);
    first.child.kill("SIGKILL");
    const killedAt = Date.now();
    await startProcess(node().url, "rescuer", { ackWaitMs: 1500 });
    const result = await future.result({ timeoutMs: 20_000 });
    expect(result.tag).toBe("survivor");
    expect(result.workerId).toBe("rescuer");
    expect(result.attempt).toBe(2);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1000); // not before the ack wait ran out
  });

  it("a worker killed during the task's last allowed attempt: the next delivery is dead-lettered as max_deliver with its bytes, without running", async () => {
    const { broker, client } = await env();
    const options = { ackWaitMs: 1000, maxDeliver: 1 };
    const victim = await startProcess(node().url, "last-victim", options);
    const future = await client.enqueue(slow, 5000, "last");
    await victim.waitFor(/^ran /, 10_000);
    victim.child.kill("SIGKILL");
    const rescuer = await startProcess(node().url, "last-rescuer", options);
    const err = (await future.result({ timeoutMs: 20_000 }).catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.kind).toBe(ErrKind.MaxDeliver);
    expect(rescuer.lines.filter((l) => l.startsWith("ran "))).toEqual([]);
    const letters = await listDeadLetters(broker);
    expect(letters).toHaveLength(1);
    expect(letters[0]?.entry?.task.id).toBe(future.id);
    expect(letters[0]?.entry?.task.payload).toBe('[5000,"last"]');
    expect(letters[0]?.entry?.error.kind).toBe(ErrKind.MaxDeliver);
    await expectEmpty(broker, TASK_STREAM);
  });

  it("a durable made with a server max deliver (as ebind for Go makes it): a worker killed on the last delivery — another worker dead-letters the task from the server's advisory", async () => {
    const { broker, client } = await env();
    // The durable exists before any of our workers, with max deliver 1, as a Go worker would create it.
    await broker.ensureConsumer(TASK_STREAM, { durable: DEFAULT_WORKER_DURABLE, filterSubject: "TASKS.>", ackWaitMs: 1000, maxDeliver: 1 });
    const victim = await startProcess(node().url, "go-victim", { ackWaitMs: 1000 });
    const future = await client.enqueue(slow, 5000, "exhausted");
    await victim.waitFor(/^ran /, 10_000);
    const rescuer = await startProcess(node().url, "go-rescuer", { ackWaitMs: 1000 });
    victim.child.kill("SIGKILL");
    const err = (await future.result({ timeoutMs: 20_000 }).catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.kind).toBe(ErrKind.MaxDeliver);
    expect(err.detail).toMatch(/the server stopped redelivering after 1 deliveries/);
    expect(rescuer.lines.filter((l) => l.startsWith("ran "))).toEqual([]);
    const letters = await listDeadLetters(broker);
    expect(letters.map((l) => [l.entry?.task.id, l.entry?.task.payload])).toEqual([[future.id, '[5000,"exhausted"]']]);
    await expectEmpty(broker, TASK_STREAM);
  });

  it("2,000 tasks spread over three worker processes all resolve with the right result", async () => {
    const { client } = await env();
    await Promise.all(["p1", "p2", "p3"].map((id) => startProcess(node().url, id, { concurrency: 32 })));
    const n = 2000;
    const futures = [];
    for (let i = 0; i < n; i += 200) {
      futures.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, (_, j) => client.enqueue(square, i + j)))));
    }
    const results = await Promise.all(futures.map((f) => f.result({ timeoutMs: 60_000 })));
    expect(results).toHaveLength(n);
    results.forEach((r, i) => expect(r.square).toBe(i * i));
    const perWorker = new Map<string, number>();
    for (const r of results) perWorker.set(r.workerId, (perWorker.get(r.workerId) ?? 0) + 1);
    expect([...perWorker.keys()].sort()).toEqual(["p1", "p2", "p3"]);
    expect(client.pending).toBe(0);
  });
});
