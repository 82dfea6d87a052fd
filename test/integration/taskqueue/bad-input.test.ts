/**
 * Bad input fails with its kind and a message naming what was wrong, and publishes nothing
 * (reference §7 item 8, DESIGN.md §4 "Bad input", "Serialisation", "Validation").
 */
import { expect, it } from "vitest";
import { z } from "zod";
import { TASK_STREAM } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { defineHandler, EbindError, TaskError, taskRef, type HandlerContext } from "../../../src/task/index.js";
import { connectNats } from "../../../src/nats/index.js";
import { Worker } from "../../../src/worker/index.js";
import { describeBackends } from "../../support/backends.js";
import { useQueueEnv } from "../../support/queue.js";

const takesAnything = defineHandler("test.takesAnything", async (_ctx, _value: unknown) => "ok");
const User = z.object({ name: z.string(), email: z.email() });
const signup = defineHandler("test.signup", async (_ctx, user: z.infer<typeof User>) => user.name, { args: [User] });

async function rejection(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describeBackends("task queue: bad input", (backend) => {
  const env = useQueueEnv(backend);

  it("arguments JSON cannot carry fail at enqueue with arg_type naming the path; nothing is published", async () => {
    const { broker, client } = await env();
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    class Point {
      constructor(readonly x: number) {}
    }
    const cases: Array<[unknown, RegExp]> = [
      [{ big: 10n }, /arg 0\.big.*BigInt/i],
      [new Map([["a", 1]]), /arg 0.*Map/],
      [{ tags: new Set(["x"]) }, /arg 0\.tags.*Set/],
      [[1, undefined, 3], /arg 0\[1\].*undefined/],
      [{ n: Number.NaN }, /arg 0\.n.*NaN/],
      [{ n: Number.POSITIVE_INFINITY }, /arg 0\.n.*Infinity/],
      [cycle, /arg 0\.self.*cycl/i],
      [new Point(1), /arg 0.*Point/],
    ];
    for (const [value, message] of cases) {
      const err = await rejection(client.enqueue(takesAnything, value));
      expect(err).toBeInstanceOf(TaskError);
      expect((err as TaskError).kind).toBe("arg_type");
      expect(err.message).toMatch(message);
      expect(err.message).toContain("enqueue test.takesAnything");
    }
    expect((await broker.streamState(TASK_STREAM))?.messages).toBe(0);
  });

  it("a wrong argument count fails with arg_count naming both counts; rest parameters take any number", async () => {
    const { client, registry, startWorker } = await env();
    const loose = takesAnything as unknown as (ctx: HandlerContext) => Promise<string>;
    const tooFew = (await rejection(client.enqueue(loose))) as TaskError;
    expect(tooFew.kind).toBe("arg_count");
    expect(tooFew.detail).toBe("enqueue test.takesAnything: arg count: want at least 1, got 0");
    const pair = defineHandler("test.pair", async (_ctx, a: number, b: number) => a + b, { arity: 2 });
    const threeArgs: (ctx: HandlerContext, a: number, b: number, c: number) => Promise<number> = pair;
    const exact = (await rejection(client.enqueue(threeArgs, 1, 2, 3))) as TaskError;
    expect(exact.detail).toBe("enqueue test.pair: arg count: want 2, got 3");
    const total = defineHandler("test.total", async (_ctx, ...ns: number[]) => ns.reduce((x, y) => x + y, 0));
    registry.register(total);
    await startWorker();
    expect(await (await client.enqueue(total, 1, 2, 3, 4)).result({ timeoutMs: 5000 })).toBe(10);
  });

  it("a schema failure names the argument and the path inside it", async () => {
    const { broker, client } = await env();
    const err = (await rejection(client.enqueue(signup, { name: "ann", email: "not-an-email" }))) as TaskError;
    expect(err.kind).toBe("arg_type");
    expect(err.detail).toMatch(/arg 0 at \.email/);
    expect((await broker.streamState(TASK_STREAM))?.messages).toBe(0);
  });

  it("a task larger than the server's max payload fails with payload_too_large", async () => {
    const { broker, client } = await env();
    const err = await rejection(client.enqueue(takesAnything, "x".repeat(broker.maxPayloadBytes + 10)));
    expect(err).toBeInstanceOf(EbindError);
    expect((err as EbindError).code).toBe("payload_too_large");
    expect(err.message).toMatch(/task of \d+ bytes exceeds the largest task this server carries, \d+ bytes \(its max payload of \d+ bytes less 16384 kept for the dead-letter entry\)/);
  });

  it("names, targets, deadlines, ids and options that cannot work are refused at the API", async () => {
    const { broker, client, registry } = await env();
    expect(() => defineHandler("bad name", async () => 1)).toThrow(/name/);
    expect(() => defineHandler("TASKS.*", async () => 1)).toThrow(/\*/);
    expect(() => taskRef("a..b")).toThrow(/empty/);
    expect(() => registry.register(async () => 1)).toThrow(/anonymous/);
    await expect(client.enqueueWith(takesAnything, { target: "  " }, 1)).rejects.toThrow("options.target must be a non-empty string");
    await expect(client.enqueueWith(takesAnything, { deadline: new Date(Number.NaN) }, 1)).rejects.toThrow("options.deadline must be a valid Date");
    await expect(client.enqueueWith(takesAnything, { timeoutMs: -5 }, 1)).rejects.toThrow("options.timeoutMs must be a positive number of ms, got -5");
    await expect(client.enqueueWith(takesAnything, { retryPolicy: { maximumAttempts: -1 } }, 1)).rejects.toThrow(/maximumAttempts/);
    await expect(client.enqueueWith(takesAnything, { retryPolicy: null as never }, 1)).rejects.toThrow("retry policy must be an object of options, got null");
    await expect(client.enqueueWith(takesAnything, { traceCtx: "x" as never }, 1)).rejects.toThrow("options.traceCtx must be an object of string values");
    for (const ms of [Number.NaN, Number.POSITIVE_INFINITY, 0, -1]) {
      await expect(client.enqueueWith(takesAnything, { publishTimeoutMs: ms }, 1)).rejects.toThrow(`options.publishTimeoutMs must be a positive number of ms, got ${ms}`);
    }
    await expect(Client.create(broker, { clientId: "has.dots" })).rejects.toThrow(/clientId/);
    await expect(Worker.start(broker, registry, { concurrency: 0 })).rejects.toThrow("worker.concurrency must be an integer ≥ 1, got 0");
    await expect(Worker.start(broker, registry, { maxDeliver: 0 })).rejects.toThrow("worker.maxDeliver must be -1 (unlimited) or ≥ 1, got 0");
    await expect(Worker.start(broker, registry, { ackWaitMs: Number.NaN })).rejects.toThrow(/worker.ackWaitMs/);
    await expect(Worker.start(broker, registry, { workerId: "a b" })).rejects.toThrow(/worker.workerId/);
    await expect(Worker.start(broker, registry, { claims: ["gpu", " "] })).rejects.toThrow("worker.claims[1] must be a non-empty string");
    await expect(Worker.start(broker, null as never)).rejects.toThrow("worker: the second argument must be a Registry of handlers");
    await expect(Worker.start(null as never, registry)).rejects.toThrow("worker: the first argument must be a Broker");
    expect((await broker.streamState(TASK_STREAM))?.messages).toBe(0);
    const future = await client.enqueue(takesAnything, 1);
    await expect(future.result({ signal: "x" as never })).rejects.toThrow("signal must be an AbortSignal");
    await expect(connectNats({ servers: "nats://127.0.0.1:1", timeoutMs: Number.NaN })).rejects.toThrow("connectNats: timeoutMs must be a positive number of ms, got NaN");
  });

  it("the worker validates decoded arguments against the schema and fails with decode naming the path", async () => {
    const { broker, registry, client, startWorker } = await env();
    registry.register(signup);
    await startWorker();
    // A producer without the schema (a Go service, say) sends a bad argument.
    const unchecked = taskRef<(ctx: HandlerContext, user: unknown) => string>("test.signup");
    const err = (await rejection((await client.enqueue(unchecked, { name: 3 })).result({ timeoutMs: 5000 }))) as TaskError;
    expect(err.kind).toBe("decode");
    expect(err.detail).toMatch(/arg 0 at \.name/);
    expect(err.retryable).toBe(false);
    void broker;
  });
});
