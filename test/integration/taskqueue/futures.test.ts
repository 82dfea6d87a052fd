/**
 * Waiting on a Future (reference §1.2, §3.8): timeouts and signals end one wait, not the future;
 * several waits share one response; close rejects what is still waiting; a future nobody awaits
 * never rejects unobserved.
 */
import { expect, it } from "vitest";
import { EbindError, TaskError } from "../../../src/task/index.js";
import { describeBackends } from "../../support/backends.js";
import { useQueueEnv } from "../../support/queue.js";
import { add, echo, nonRetryable } from "../../support/handlers/common.js";

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

describeBackends("task queue: waiting on futures", (backend) => {
  const env = useQueueEnv(backend);

  it("a timeout ends that wait only: the future still resolves once a worker runs the task", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(echo);
    const future = await client.enqueue(echo, "late");
    expect(((await rejection(future.result(null as never))) as EbindError).code).toBe("invalid_argument");
    const err = await rejection(future.result({ timeoutMs: 20 }));
    expect(err).toBeInstanceOf(EbindError);
    expect((err as EbindError).code).toBe("timeout");
    expect((err as EbindError).message).toContain(future.id);
    expect(client.pending).toBe(1);
    await startWorker();
    expect(await future.result()).toBe("echo:late");
    expect(client.pending).toBe(0);
  });

  it("an aborted signal ends the wait with its reason; an Error-less reason becomes a timeout; an aborted signal rejects at once", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(echo);
    const future = await client.enqueue(echo, "x");
    const stop = new AbortController();
    const waiting = rejection(future.result({ signal: stop.signal }));
    const reason = new Error("the caller gave up");
    stop.abort(reason);
    expect(await waiting).toBe(reason);
    expect(await rejection(future.resultRaw({ signal: stop.signal }))).toBe(reason);
    const quiet = new AbortController();
    const quietWait = rejection(future.outcome({ signal: quiet.signal, timeoutMs: 60_000 }));
    quiet.abort("no Error");
    const err = await quietWait;
    expect(err).toBeInstanceOf(EbindError);
    expect((err as EbindError).code).toBe("timeout");
    await startWorker();
    expect(await future.result({ signal: new AbortController().signal, timeoutMs: 60_000 })).toBe("echo:x");
  });

  it("several waits of every kind share the one response, and a wait after it arrived settles from it", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(add);
    const future = await client.enqueue(add, 2, 3);
    const waits = Promise.all([future.result(), future.resultRaw(), future.outcome(), future.result({ timeoutMs: 60_000 }), future.result({ signal: new AbortController().signal })]);
    const dropped = rejection(future.result({ timeoutMs: 10 }));
    expect(((await dropped) as EbindError).code).toBe("timeout");
    await startWorker();
    const [value, raw, response, timed, signalled] = await waits;
    expect(value).toBe(5);
    expect(raw).toBe("5");
    expect(response.taskId).toBe(future.id);
    expect(response.attempts).toBe(1);
    expect(timed).toBe(5);
    expect(signalled).toBe(5);
    expect(await future.result({ timeoutMs: 0 })).toBe(5);
    expect(await future.resultRaw()).toBe("5");
  });

  it("a failed task rejects result and resultRaw with its TaskError; outcome resolves with the failure", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(nonRetryable);
    await startWorker();
    const future = await client.enqueue(nonRetryable);
    const err = await rejection(future.result({ timeoutMs: 10_000 }));
    expect(err).toBeInstanceOf(TaskError);
    expect((err as TaskError).kind).toBe("validation");
    expect(await rejection(future.resultRaw())).toBeInstanceOf(TaskError);
    const response = await future.outcome();
    expect(response.error?.kind).toBe("validation");
  });

  it("close rejects waiting calls with closed, later calls too; a future nobody awaits rejects nothing unobserved", async () => {
    const { client } = await env();
    const waited = await client.enqueue(echo, "never");
    await client.enqueue(echo, "nobody awaits this one");
    const waits = [rejection(waited.result()), rejection(waited.outcome({ timeoutMs: 60_000 }))];
    await client.close();
    for (const err of await Promise.all(waits)) {
      expect(err).toBeInstanceOf(EbindError);
      expect((err as EbindError).code).toBe("closed");
    }
    expect(((await rejection(waited.result())) as EbindError).code).toBe("closed");
    expect(client.pending).toBe(0);
  });
});
