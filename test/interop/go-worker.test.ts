/**
 * Issue 15, part a: a TypeScript producer and a Go worker (`ebgo worker`, Go's encoding/json over
 * the reference's types) on one nats-server: result shapes, TaskError, retries with backoff, a
 * deadline, and a dead letter the Go worker wrote, listed and requeued from TypeScript.
 */
import { expect, it } from "vitest";
import { DLQ_STREAM, TASK_STREAM } from "../../src/broker/index.js";
import { listDeadLetters, requeueDeadLetter } from "../../src/dlq/index.js";
import { connectNats } from "../../src/nats/index.js";
import { rawJson, TaskError, taskRef, type RawJson } from "../../src/task/index.js";
import { describeGo, runGo, useGoProcesses, type GoLine, type GoProcess } from "../support/go.js";
import { useNatsNode } from "../support/nats.js";
import { eventually, expectEmpty, useQueueEnv } from "../support/queue.js";

const BigAdd = taskRef<(ctx: unknown, a: number | RawJson<number>, b: number) => Promise<number>>("interop.BigAdd");
const RawEcho = taskRef<(ctx: unknown, v: unknown) => Promise<unknown>>("interop.RawEcho");
const Float = taskRef<(ctx: unknown, x: number) => Promise<number>>("interop.Float");
const Struct = taskRef<(ctx: unknown, name: string, n: number) => Promise<Record<string, unknown>>>("interop.Struct");
const Void = taskRef<(ctx: unknown) => Promise<void>>("interop.Void");
const Nil = taskRef<(ctx: unknown) => Promise<null>>("interop.Nil");
const Fail = taskRef<(ctx: unknown, kind: string, msg: string, retryable: boolean) => Promise<never>>("interop.Fail");
const Flaky = taskRef<(ctx: unknown, n: number) => Promise<number>>("interop.Flaky");
const Sleep = taskRef<(ctx: unknown, ms: number) => Promise<string>>("interop.Sleep");
const NonRetryable = taskRef<(ctx: unknown, msg: string) => Promise<never>>("interop.NonRetryable");

const taskLines = (lines: GoLine[], id: string): GoLine[] => lines.filter((l) => l.event === "task" && l.id === id);

/**
 * Waits for the Go worker's final line about task `id` (done or dead). The worker prints it before
 * it responds, but its stdout pipe may reach us after the response does.
 */
const settled = (w: GoProcess, id: string, runs = 1): Promise<GoLine> =>
  w.waitFor((l) => l.event === "task" && l.id === id && (l.outcome === "done" || l.outcome === "dead") && taskLines(w.lines, id).filter((t) => t.outcome === "done" || t.outcome === "dead").length >= runs, `task ${id} settled ${runs}×`);

describeGo("interop: TypeScript producer → Go worker", () => {
  const node = useNatsNode();
  const env = useQueueEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });
  const startGo = useGoProcesses();
  const goWorker = (...extra: string[]) => startGo(["worker", "--url", node().url, "--id", "go-w1", ...extra]);

  it("Go's EnsureStreams accepts the streams ours created, and ours accept Go's", async () => {
    await env();
    expect(await runGo(["streams", "ensure", "--url", node().url])).toEqual([{ event: "ensured" }]);
    const { broker } = await env();
    expect((await broker.streamState(TASK_STREAM))?.messages).toBe(0);
  });

  it("results of several shapes come back exactly as Go encoded them", async () => {
    const { client } = await env();
    await goWorker();
    // 9007199254740000 + 993 = 2^53 + 1: computed in int64, carried as raw JSON text.
    const big = await client.enqueue(BigAdd, 9007199254740000, 993);
    expect(await big.resultRaw({ timeoutMs: 10_000 })).toBe("9007199254740993");
    // An argument above 2^53 sent verbatim with rawJson reaches Go's int64 exactly.
    const exact = await client.enqueue(BigAdd, rawJson<number>("9007199254740993"), 2);
    expect(await exact.resultRaw({ timeoutMs: 10_000 })).toBe("9007199254740995");
    const echo = await client.enqueue(RawEcho, { a: [1, 2.5, "x<y"], b: null, c: { d: true } });
    // Go's encoder HTML-escapes inside a RawMessage field too (§2.1): '<' comes back as \u003c, same value.
    const echoed = await echo.resultRaw({ timeoutMs: 10_000 });
    expect(echoed).toBe('{"a":[1,2.5,"x\\u003cy"],"b":null,"c":{"d":true}}');
    expect(await echo.result()).toEqual({ a: [1, 2.5, "x<y"], b: null, c: { d: true } });
    for (const x of [0.1, 2, 1e-7, 123456.789]) {
      const f = await client.enqueue(Float, x);
      expect(await f.resultRaw({ timeoutMs: 10_000 })).toBe(JSON.stringify(x * 1.5));
    }
    const s = await client.enqueue(Struct, "alice", 6);
    expect(await s.result({ timeoutMs: 10_000 })).toEqual({ name: "alice", count: 6, ratio: 1.5, at: "2026-05-01T10:00:00.123456789Z", Plain: true });
    const v = await client.enqueue(Void);
    expect(await v.resultRaw({ timeoutMs: 10_000 })).toBeUndefined();
    expect((await v.outcome()).result).toBeUndefined();
    const n = await client.enqueue(Nil);
    expect(await n.resultRaw({ timeoutMs: 10_000 })).toBe("null");
    expect(await n.result()).toBeNull();
  });

  it("a TaskError keeps its kind, message and retryable flag; a retryable one is retried per the task's policy", async () => {
    const { client } = await env();
    const w = await goWorker();
    const hard = await client.enqueue(Fail, "quota", "over quota", false);
    const err = await hard.result({ timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    expect(err).toMatchObject({ kind: "quota", detail: "over quota", retryable: false });
    expect((await hard.outcome()).attempts).toBe(1);

    const soft = await client.enqueueWith(Fail, { retryPolicy: { initialIntervalMs: 100, maximumAttempts: 2 } }, "busy", "try later", true);
    const outcome = await soft.outcome({ timeoutMs: 10_000 });
    expect(outcome.error).toMatchObject({ kind: "busy", message: "try later", retryable: true });
    expect(outcome.attempts).toBe(2);
    await settled(w, soft.id);
    expect(taskLines(w.lines, soft.id).map((l) => l.outcome)).toEqual(["retry", "dead"]);
  });

  it("retries follow the envelope's RetryPolicy backoff: NAK delays 200 then 400 ms, attempt counts 1, 2, 3", async () => {
    const { client } = await env();
    const w = await goWorker();
    const started = Date.now();
    const f = await client.enqueueWith(Flaky, { retryPolicy: { initialIntervalMs: 200, backoffCoefficient: 2, maximumAttempts: 5 } }, 2);
    expect(await f.result({ timeoutMs: 10_000 })).toBe(3);
    const elapsed = Date.now() - started;
    expect((await f.outcome()).attempts).toBe(3);
    await settled(w, f.id);
    const lines = taskLines(w.lines, f.id);
    expect(lines.map((l) => [l.attempt, l.outcome, l.delay_ms ?? 0])).toEqual([
      [1, "retry", 200],
      [2, "retry", 400],
      [3, "done", 0],
    ]);
    expect(lines[0]?.error).toEqual({ kind: "handler", message: "flaky: attempt 1 of 2 failing", retryable: true });
    expect(elapsed).toBeGreaterThanOrEqual(600);
  });

  it("a handler outliving its deadline: Go reports kind handler (retryable) and the redelivery fails with kind deadline before dispatch (§3.4)", async () => {
    const { client } = await env();
    const w = await goWorker();
    const before = Date.now();
    const f = await client.enqueueWith(Sleep, { timeoutMs: 400 }, 5000);
    const after = Date.now();
    const outcome = await f.outcome({ timeoutMs: 10_000 });
    expect(outcome.error).toEqual({ kind: "deadline", message: "deadline exceeded before dispatch", retryable: false });
    expect(outcome.attempts).toBe(2);
    await settled(w, f.id);
    const lines = taskLines(w.lines, f.id);
    expect(lines.map((l) => [l.attempt, l.outcome])).toEqual([
      [1, "retry"],
      [2, "dead"],
    ]);
    expect(lines[0]?.error).toEqual({ kind: "handler", message: "context deadline exceeded", retryable: true });
    // Go read our absolute deadline: enqueue time + 400 ms.
    const deadline = Date.parse(String(lines[0]?.deadline));
    expect(deadline).toBeGreaterThanOrEqual(before + 400);
    expect(deadline).toBeLessThanOrEqual(after + 400);
  });

  it("a non-retryable failure lands in the DLQ as Go writes it; our dlq API lists and requeues it, and the Go worker runs it again", async () => {
    const { broker, client } = await env();
    const w = await goWorker();
    const f = await client.enqueue(NonRetryable, "email is missing");
    await expect(f.result({ timeoutMs: 10_000 })).rejects.toMatchObject({ kind: "validation", retryable: false });
    await eventually(async () => (await listDeadLetters(broker)).length === 1, "one dead letter");
    const [letter] = await listDeadLetters(broker);
    expect(letter?.decodeError).toBeUndefined();
    expect(letter?.subject).toBe("DLQ.interop.NonRetryable");
    expect(letter?.entry).toMatchObject({
      error: { kind: "validation", message: "email is missing", retryable: false },
      finalAttempt: 1,
      task: { id: f.id, name: "interop.NonRetryable", payload: '["email is missing"]', attempt: 1, workerId: "go-w1" },
    });
    // ebgo reads the same entry.
    const goList = (await runGo(["dlq", "list", "--url", node().url])).filter((l) => l.event === "entry");
    expect(goList).toHaveLength(1);
    expect(goList[0]).toMatchObject({ seq: letter!.seq, entry: { final_attempt: 1, task: { id: f.id, worker_id: "go-w1" } } });

    await requeueDeadLetter(broker, letter!.seq);
    await settled(w, f.id, 2);
    const second = taskLines(w.lines, f.id)[1];
    expect(second).toMatchObject({ attempt: 1, outcome: "dead" });
    await eventually(async () => (await listDeadLetters(broker)).length === 1, "the old entry gone, a new one written");
    const [again] = await listDeadLetters(broker);
    expect(again!.seq).toBeGreaterThan(letter!.seq);
    await expectEmpty(broker, TASK_STREAM);
    expect((await broker.streamState(DLQ_STREAM))?.messages).toBe(1);
  });
});
