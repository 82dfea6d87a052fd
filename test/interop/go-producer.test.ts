/**
 * Issue 15, part a: a Go producer (`ebgo enqueue`, Go's encoding/json over the reference's types)
 * and a TypeScript worker on one nats-server: result shapes as Go decodes them, TaskError, retries,
 * a deadline, and a dead letter our worker wrote, listed and requeued by ebgo as Go's dlq package
 * would.
 */
import { expect, it } from "vitest";
import { TASK_STREAM } from "../../src/broker/index.js";
import { listDeadLetters } from "../../src/dlq/index.js";
import { connectNats } from "../../src/nats/index.js";
import { describeGo, runGo, type GoLine } from "../support/go.js";
import { useNatsNode } from "../support/nats.js";
import { eventually, expectEmpty, useQueueEnv } from "../support/queue.js";
import { interopHandlers, nonRetryableRuns } from "../support/handlers/interop.js";

describeGo("interop: Go producer → TypeScript worker", () => {
  const node = useNatsNode();
  const env = useQueueEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });

  /** A queue env with a TypeScript worker serving the interop handlers. */
  const withWorker = async (workerId = "ts-w1") => {
    const e = await env();
    for (const h of interopHandlers) e.registry.register(h);
    await e.startWorker({ workerId });
    return e;
  };
  /** `ebgo enqueue` → its lines by event. */
  const enqueue = async (name: string, args: string, ...extra: string[]) => {
    const lines = await runGo(["enqueue", "--url", node().url, "--name", name, "--args", args, ...extra]);
    const byEvent = (event: string): GoLine | undefined => lines.find((l) => l.event === event);
    return { enqueued: byEvent("enqueued"), response: byEvent("response"), decoded: byEvent("decoded"), lines };
  };

  it("Go's envelope is decoded by our worker; results come back as Go decodes them", async () => {
    await withWorker();
    const f = await enqueue("interop.Float", "[0.1]", "--decode", "float64");
    expect(f.enqueued?.envelope).toMatchObject({ name: "interop.Float", payload: [0.1], deadline: "0001-01-01T00:00:00Z", attempt: 0 });
    expect(f.response).toMatchObject({ result: 0.15000000000000002, attempts: 1 });
    expect(f.decoded?.value).toBe(0.15000000000000002);
    const s = await enqueue("interop.Struct", '["alice", 6]', "--decode", "info");
    // Info's untagged field is matched by its Go name; the time is parsed by time.Time.
    expect(s.decoded?.value).toEqual({ name: "alice", count: 6, ratio: 1.5, at: "2026-05-01T10:00:00.123456789Z", Plain: true });
    const v = await enqueue("interop.Void", "[]");
    expect(v.response).not.toHaveProperty("result");
    expect(v.response).not.toHaveProperty("error");
    const n = await enqueue("interop.Nil", "[]");
    expect(n.response).toHaveProperty("result", null);
  });

  it("an int64 above 2^53 reaches a TypeScript handler rounded as a number, exact in the raw payload", async () => {
    await withWorker();
    const r = await enqueue("interop.BigAdd", "[9007199254740993, 0]");
    // JSON.parse rounds 2^53 + 1 to 2^53; the raw text of the argument is intact.
    expect(r.response?.result).toEqual({ sum: 9007199254740992, firstArgText: "9007199254740993" });
  });

  it("a TypeScript handler returning rawJson gives Go's int64 the exact value above 2^53", async () => {
    await withWorker();
    const r = await enqueue("interop.ExactAdd", "[9007199254740993, 2]", "--decode", "int64");
    expect(r.decoded?.text).toBe("9007199254740995");
  });

  it("a TaskError keeps kind, message and retryable; a Go retry policy drives our retries", async () => {
    await withWorker();
    const hard = await enqueue("interop.Fail", '["quota", "over quota", false]');
    expect(hard.response).toMatchObject({ error: { kind: "quota", message: "over quota", retryable: false }, attempts: 1 });
    const policy = JSON.stringify({ initial_interval: 200_000_000, backoff_coefficient: 2, maximum_interval: 60_000_000_000, maximum_attempts: 5 });
    const started = Date.now();
    const flaky = await enqueue("interop.Flaky", "[2]", "--retry", policy, "--decode", "int64");
    expect(flaky.response).toMatchObject({ result: 3, attempts: 3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    const soft = await enqueue("interop.Fail", '["busy", "try later", true]', "--retry", JSON.stringify({ initial_interval: 100_000_000, backoff_coefficient: 1, maximum_interval: 0, maximum_attempts: 2 }));
    expect(soft.response).toMatchObject({ error: { kind: "busy", message: "try later", retryable: true }, attempts: 2 });
  });

  it("a Go deadline stops our handler with kind deadline, not retried", async () => {
    await withWorker();
    const started = Date.now();
    const r = await enqueue("interop.Sleep", "[5000]", "--deadline-in", "400ms");
    expect(r.response).toMatchObject({ error: { kind: "deadline", retryable: false }, attempts: 1 });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("a dead letter our worker wrote is listed by ebgo as Go's dlq.Entry and requeued by it; our worker runs it again", async () => {
    const { broker } = await withWorker();
    nonRetryableRuns.count = 0;
    const r = await enqueue("interop.NonRetryable", '["email is missing"]');
    const id = String(r.enqueued?.id);
    expect(r.response).toMatchObject({ error: { kind: "validation", message: "email is missing", retryable: false } });
    await eventually(async () => (await listDeadLetters(broker)).length === 1, "one dead letter");
    const listed = (await runGo(["dlq", "list", "--url", node().url])).filter((l) => l.event === "entry");
    expect(listed).toHaveLength(1);
    const entry = listed[0]?.entry as Record<string, unknown>;
    expect(listed[0]?.subject).toBe("DLQ.interop.NonRetryable");
    expect(entry).toMatchObject({
      error: { kind: "validation", message: "email is missing", retryable: false },
      final_attempt: 1,
      task: { id, name: "interop.NonRetryable", payload: ["email is missing"], attempt: 1, worker_id: "ts-w1" },
    });
    expect(typeof entry.dead_lettered_at).toBe("string");
    const seq = Number(listed[0]?.seq);
    expect(await runGo(["dlq", "requeue", "--url", node().url, String(seq)])).toEqual([{ event: "requeued", seq }]);
    await eventually(() => nonRetryableRuns.count === 2, "the requeued task ran again on our worker");
    await eventually(async () => {
      const letters = await listDeadLetters(broker);
      return letters.length === 1 && letters[0]!.seq > seq;
    }, "the old entry deleted, a new one written");
    await expectEmpty(broker, TASK_STREAM);
  });
});
