/**
 * Fuzzing argument and result values (issue 12, "Nothing lost, even from bad input"): every value
 * either arrives exactly as JSON is documented to carry it (deep equality with Object.is, so -0 stays
 * -0) or is refused with a typed error naming its path — never silently changed.
 *
 * numRuns: codec + dispatcher 1000 (arguments) and 1000 (results); memory backend end to end 200;
 * nats-server end to end 50.
 */
import fc from "fast-check";
import { afterAll, describe as suite, expect, it } from "vitest";
import type { Client } from "../../src/client/index.js";
import {
  decodeResponse,
  decodeTask,
  defineHandler,
  describe,
  encodeResponse,
  encodeTask,
  findUnfaithfulJson,
  TaskError,
  type HandlerContext,
} from "../../src/task/index.js";
import { describeBackends } from "../support/backends.js";
import { useQueueEnv } from "../support/queue.js";
import { anyValue, expectedJsonForm, expectPathNamesTheProblem, sameJsonValue, watchCrashes } from "./values-support.js";

const watch = watchCrashes();
afterAll(() => {
  watch.restore();
  expect(watch.crashes).toEqual([]);
});

let captured: unknown;
const echo = defineHandler("fuzz.echo", async (_ctx: HandlerContext, v: unknown) => {
  captured = v;
  return v;
});
const given = new Map<string, unknown>();
const give = defineHandler("fuzz.give", async (_ctx: HandlerContext, key: string) => given.get(key));

const ctx: HandlerContext = {
  signal: new AbortController().signal,
  task: { id: "t", name: "fuzz.echo", payload: "[]", enqueuedAt: new Date(0), attempt: 1 },
  attempt: 1,
  workerId: "w1",
};

/** The refusal message for `v` as an argument, or undefined when it must round-trip. */
function refusal(v: unknown): string | undefined {
  return findUnfaithfulJson(v, "arg 0");
}

suite("fuzz: values through the codec and the dispatcher", () => {
  it("an argument round-trips exactly or is refused with arg_type naming its path (1000 runs)", async () => {
    const d = describe(echo);
    await fc.assert(
      fc.asyncProperty(anyValue, async (v) => {
        const refused = await d.validateArgs([v]).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (refused !== undefined) {
          expect(refused).toBeInstanceOf(TaskError);
          expect((refused as TaskError).kind).toBe("arg_type");
          expectPathNamesTheProblem((refused as TaskError).detail, "arg 0", v);
          return;
        }
        const expected = expectedJsonForm(v, "0");
        const payload = d.encodeArgs([v]);
        const task = decodeTask(encodeTask({ id: "t1", name: "fuzz.echo", payload, enqueuedAt: new Date(0), attempt: 0 }));
        captured = Symbol("not called");
        const result = await d.call(ctx, task.payload);
        expect(sameJsonValue(captured, expected)).toBeUndefined();
        if (expected === undefined) return;
        const back = decodeResponse(encodeResponse({ taskId: "t1", result, attempts: 1, completedAt: new Date(0) }));
        expect(sameJsonValue(JSON.parse(back.result as string), expected)).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it("a result round-trips exactly or fails with decode naming its path (1000 runs)", async () => {
    const d = describe(give);
    await fc.assert(
      fc.asyncProperty(anyValue, async (v) => {
        given.set("k", v);
        const outcome = await d.call(ctx, '["k"]').then(
          (text) => ({ text }),
          (e: unknown) => ({ error: e }),
        );
        if ("error" in outcome) {
          expect(outcome.error).toBeInstanceOf(TaskError);
          expect((outcome.error as TaskError).kind).toBe("decode");
          expectPathNamesTheProblem((outcome.error as TaskError).detail, "marshal result: result", v);
          return;
        }
        const expected = expectedJsonForm(v);
        if (outcome.text === undefined) {
          expect(expected).toBeUndefined();
          return;
        }
        expect(findUnfaithfulJson(v, "result")).toBeUndefined();
        expect(sameJsonValue(JSON.parse(outcome.text), expected)).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });
});

async function roundTripOnce(client: Client, v: unknown): Promise<void> {
  const problem = refusal(v);
  const enqueued = await client.enqueue(echo, v).then(
    (f) => ({ future: f }),
    (e: unknown) => ({ error: e }),
  );
  if ("error" in enqueued) {
    expect(problem, `refused although JSON carries it: ${String(enqueued.error)}`).toBeDefined();
    expect(enqueued.error).toBeInstanceOf(TaskError);
    expect((enqueued.error as TaskError).kind).toBe("arg_type");
    expectPathNamesTheProblem((enqueued.error as TaskError).detail, "arg 0", v);
  } else {
    expect(problem).toBeUndefined();
    const got = await enqueued.future.result({ timeoutMs: 10_000 });
    const expected = expectedJsonForm(v, "0");
    expect(sameJsonValue(got, expected === undefined ? null : expected)).toBeUndefined();
  }
  // The same value as a handler's result.
  const key = `k${Math.random()}`;
  given.set(key, v);
  const outcome = await (await client.enqueue(give, key)).result({ timeoutMs: 10_000 }).then(
    (value) => ({ value }),
    (e: unknown) => ({ error: e }),
  );
  given.delete(key);
  if ("error" in outcome) {
    expect(outcome.error).toBeInstanceOf(TaskError);
    expect((outcome.error as TaskError).kind).toBe("decode");
    expectPathNamesTheProblem((outcome.error as TaskError).detail, "marshal result: result", v);
  } else {
    // A handler that returns undefined returns nothing (a void handler): no result, not a refusal.
    if (v !== undefined) expect(findUnfaithfulJson(v, "result")).toBeUndefined();
    expect(sameJsonValue(outcome.value, expectedJsonForm(v))).toBeUndefined();
  }
}

describeBackends("fuzz: values end to end", (backend) => {
  const env = useQueueEnv(backend);
  const numRuns = backend.name === "memory" ? 200 : 50;

  it(`enqueue → handler → result: exact or refused (${numRuns} runs)`, async () => {
    const { client, registry, startWorker } = await env();
    registry.register(echo);
    registry.register(give);
    await startWorker({ concurrency: 4 });
    await fc.assert(fc.asyncProperty(anyValue, (v) => roundTripOnce(client, v)), { numRuns });
  });
});
