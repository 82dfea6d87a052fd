/**
 * Admission (src/worker/admission.ts) and the attempt cap: what the new-user break test found — a
 * crash on a task's last attempt under its retry policy (no maxDeliver) let it run again; an
 * envelope whose handler name contradicts its subject ran, or waited for ever.
 */
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../../src/broker/port.js";
import { encodeTask, type Task } from "../../../src/task/index.js";
import { admit, type AdmissionContext } from "../../../src/worker/admission.js";
import { resolveWorkerOptions } from "../../../src/worker/options.js";
import { maxAttempts } from "../../../src/worker/retry-decision.js";

const task: Task = { id: "t1", name: "jobs.send", payload: "[]", enqueuedAt: new Date(), attempt: 0 };

function delivery(subject: string, body: Task, deliveryCount = 1): Delivery {
  return {
    subject,
    data: new TextEncoder().encode(encodeTask(body)),
    deliveryCount,
    streamSeq: 7,
    msgId: undefined,
    storedAtMs: Date.now(),
    header: () => undefined,
    ack: () => undefined,
    nak: () => undefined,
    term: () => undefined,
    working: () => undefined,
  };
}

const ctx = (cap: number): AdmissionContext => ({
  workerId: "w",
  maxAttempts: () => cap,
  holds: () => true,
  hasHandler: () => true,
  hasStepHook: true,
  now: () => Date.now(),
  deadlineAt: () => undefined,
});

describe("admission", () => {
  it("dead-letters an envelope whose handler name contradicts its subject, with the envelope", () => {
    const verdict = admit(delivery("TASKS.jobs.other", task), ctx(0));
    expect(verdict.action).toBe("invalid");
    expect(verdict.action === "invalid" && verdict.reason).toMatch(/names handler "jobs\.send" but arrived on TASKS\.jobs\.other/);
    expect(verdict.action === "invalid" && verdict.task?.id).toBe("t1");
  });

  it("a delivery past the last allowed attempt fails with max_deliver without running; the one before runs", () => {
    const past = admit(delivery("TASKS.jobs.send", task, 2), ctx(1));
    expect(past.action === "fail" && past.error.kind).toBe("max_deliver");
    expect(admit(delivery("TASKS.jobs.send", task, 1), ctx(1)).action).toBe("run");
    expect(admit(delivery("TASKS.jobs.send", task, 50), ctx(0)).action).toBe("run");
  });
});

describe("maxAttempts", () => {
  it("is the task policy's, else the worker default policy's, else maxDeliver, else the default policy's 5; maxDeliver caps them all", () => {
    const plain = resolveWorkerOptions({});
    expect(maxAttempts(task, plain)).toBe(5);
    expect(maxAttempts({ ...task, retryPolicy: { initialIntervalMs: 1, backoffCoefficient: 2, maximumIntervalMs: 10, maximumAttempts: 1 } }, plain)).toBe(1);
    expect(maxAttempts(task, resolveWorkerOptions({ defaultRetryPolicy: { maximumAttempts: 0 } }))).toBe(0);
    expect(maxAttempts(task, resolveWorkerOptions({ defaultRetryPolicy: { maximumAttempts: 0 }, maxDeliver: 3 }))).toBe(3);
    expect(maxAttempts(task, resolveWorkerOptions({ maxDeliver: 2 }))).toBe(2);
    expect(maxAttempts(task, resolveWorkerOptions({ defaultRetryPolicy: { maximumAttempts: 8 }, maxDeliver: 3 }))).toBe(3);
  });
});
