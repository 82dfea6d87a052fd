/**
 * Issue 15: a Go producer's task (nanosecond deadline, local offset) that fails on a TypeScript
 * worker is dead-lettered with its times as Go wrote them, and a requeue republishes the deadline
 * unchanged (a Go requeue of the same entry republishes the entry's task as it is).
 */
import { expect, it } from "vitest";
import { TASK_STREAM, taskPublishSubject } from "../../../src/broker/index.js";
import { listDeadLetters, requeueDeadLetter } from "../../../src/dlq/index.js";
import { decodeTask, defineHandler, TaskError } from "../../../src/task/index.js";
import { describeBackends } from "../../support/backends.js";
import { eventually, useQueueEnv } from "../../support/queue.js";

describeBackends("task queue: Go's time precision through a TypeScript worker", (backend) => {
  const env = useQueueEnv(backend);

  it("the DLQ entry and the requeued task keep the deadline's nanoseconds and offset", async () => {
    const { broker, registry, startWorker } = await env();
    const refuse = defineHandler("interop.refuse", async (): Promise<void> => {
      throw new TaskError("rejected", "not today", { retryable: false });
    });
    registry.register(refuse);
    const worker = await startWorker();
    const deadline = new Date(Date.now() + 3_600_000);
    // As Go writes a deadline in a zone one hour east of UTC: nanoseconds and "+01:00".
    const local = new Date(deadline.getTime() + 3_600_000).toISOString().slice(0, 23);
    const deadlineText = `${local}456789+01:00`;
    const body = JSON.stringify({ id: "t-go-1", name: "interop.refuse", payload: [], deadline: deadlineText, enqueued_at: "2026-12-07T14:03:05.000000001Z", attempt: 0 });
    await broker.publish(taskPublishSubject("interop.refuse"), new TextEncoder().encode(body), { msgId: "t-go-1" });

    let letters = await listDeadLetters(broker);
    await eventually(async () => (letters = await listDeadLetters(broker)).length === 1, "the task was dead-lettered");
    const stored = await broker.getMessage("EBIND_DLQ", letters[0]!.seq);
    const entry = JSON.parse(new TextDecoder().decode(stored!.data)) as { task: Record<string, unknown> };
    expect(entry.task.deadline).toBe(deadlineText);
    expect(entry.task.enqueued_at).toBe("2026-12-07T14:03:05.000000001Z");

    // Else the worker may take the requeued task (and fail it again) before it is read back from
    // the work-queue stream: one local run on nats-server 2.15.3 failed so (1 of 7).
    await worker.close();
    const { taskSeq } = await requeueDeadLetter(broker, letters[0]!.seq);
    const requeued = await broker.getMessage(TASK_STREAM, taskSeq);
    const wire = JSON.parse(new TextDecoder().decode(requeued!.data)) as Record<string, unknown>;
    expect(wire.deadline).toBe(deadlineText);
    expect(wire.enqueued_at).not.toBe("2026-12-07T14:03:05.000000001Z"); // a requeue is enqueued anew
    expect(decodeTask(requeued!.data).deadline?.getTime()).toBe(deadline.getTime());
  });
});
