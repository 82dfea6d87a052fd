/**
 * Telemetry observers isolated from each other: in `combineTelemetry(a, b)` an observer whose hook or
 * scope throws — or is `async` and rejects — never costs the other its calls or scopes, and the
 * failure is still logged once per hook by the component's guard. `run` runs its function exactly
 * once whatever each observer's `run` does.
 */
import { describe, expect, it } from "vitest";
import { combineTelemetry, type AttemptScope, type Telemetry } from "../../../src/broker/index.js";
import { safeTelemetry } from "../../../src/broker/telemetry-guard.js";
import { TaskError } from "../../../src/task/index.js";
import { recordingLogger } from "../../support/logger.js";
import { eventually } from "../../support/queue.js";

const task = { id: "t1", name: "x", payload: "[]", enqueuedAt: new Date(0), attempt: 1 };
const attemptEvent = { task, subject: "TASKS.x", durable: "d", workerId: "w", deliveryCount: 1, queueWaitMs: 0 };
const publishEvent = { kind: "enqueue" as const, task, subject: "TASKS.x" };
const CTX = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };

function boom(): never {
  throw new Error("boom");
}

/** An observer recording each call it gets, its scopes included; `run` records entering and leaving. */
function recorder(): { telemetry: Telemetry; calls: string[] } {
  const calls: string[] = [];
  const telemetry: Telemetry = {
    publish: () => (calls.push("publish"), { traceCtx: CTX, end: () => void calls.push("publish.end") }),
    attempt: () => (
      calls.push("attempt"),
      {
        run: <T>(fn: () => T): T => {
          calls.push("run>");
          try {
            return fn();
          } finally {
            calls.push("run<");
          }
        },
        end: () => void calls.push("attempt.end"),
      }
    ),
    deadLetter: () => void calls.push("deadLetter"),
    dagSubmit: () => (calls.push("dagSubmit"), { traceCtx: CTX, end: () => void calls.push("dagSubmit.end") }),
    schedulerEvent: () => void calls.push("schedulerEvent"),
  };
  return { telemetry, calls };
}

/** Drives every hook and scope once through the guard; returns what the scopes carried and `run` gave. */
function driveAll(telemetry: Telemetry, log = recordingLogger()): { traceCtx: unknown[]; runs: number; result: unknown } {
  const safe = safeTelemetry(telemetry, log, "worker.telemetry")!;
  const publish = safe.publish(publishEvent);
  publish?.end();
  let runs = 0;
  const attempt = safe.attempt(attemptEvent);
  const result = attempt?.run(() => ++runs);
  attempt?.end({ result: "succeeded", durationMs: 1 });
  safe.deadLetter({ task, error: new TaskError("k", "m"), subject: "DLQ.x" });
  const dag = safe.dagSubmit({ dagId: "d", steps: 1, labels: [] });
  dag?.end();
  safe.schedulerEvent({ dagId: "d", kind: "completed", lagMs: 1 });
  return { traceCtx: [publish?.traceCtx, dag?.traceCtx], runs, result };
}

const ALL_CALLS = ["publish", "publish.end", "attempt", "run>", "run<", "attempt.end", "deadLetter", "dagSubmit", "dagSubmit.end", "schedulerEvent"];

describe("combineTelemetry isolates its observers", () => {
  it("an observer whose every hook throws costs the other nothing; each failure logged once per hook", () => {
    const log = recordingLogger();
    const b = recorder();
    const broken: Telemetry = { publish: boom, attempt: boom, deadLetter: boom, dagSubmit: boom, schedulerEvent: boom };
    const safe = combineTelemetry(broken, b.telemetry)!;
    for (let i = 0; i < 2; i++) expect(driveAll(safe, log)).toEqual({ traceCtx: [CTX, CTX], runs: 1, result: 1 });
    expect(b.calls).toEqual([...ALL_CALLS, ...ALL_CALLS]);
    // Each driveAll makes a new guard (a new component): once per hook for each.
    expect(log.lines.slice(0, 5).map(([, , f]) => f?.hook)).toEqual(["publish", "attempt", "deadLetter", "dagSubmit", "schedulerEvent"]);
  });

  it("the other order too: the throwing observer last", () => {
    const b = recorder();
    const broken: Telemetry = { publish: boom, attempt: boom, deadLetter: boom, dagSubmit: boom, schedulerEvent: boom };
    expect(driveAll(combineTelemetry(b.telemetry, broken)!)).toEqual({ traceCtx: [CTX, CTX], runs: 1, result: 1 });
    expect(b.calls).toEqual(ALL_CALLS);
  });

  const scopeFaults: Array<[string, AttemptScope["run"]]> = [
    ["run throws before calling fn", () => boom()],
    ["run never calls fn", (() => "something else") as never],
    ["run throws after fn returned", ((fn: () => unknown) => {
      fn();
      boom();
    })],
  ];
  for (const [what, run] of scopeFaults) {
    for (const first of [true, false]) {
      it(`an observer whose scopes throw (${what}, ${first ? "first" : "last"}) keeps the other's scopes; fn runs once`, () => {
        const log = recordingLogger();
        const b = recorder();
        const brokenScopes: Telemetry = {
          publish: () => ({ end: boom }),
          attempt: () => ({ run, end: boom }),
          dagSubmit: () => ({ end: boom }),
        };
        const combined = first ? combineTelemetry(brokenScopes, b.telemetry)! : combineTelemetry(b.telemetry, brokenScopes)!;
        expect(driveAll(combined, log)).toEqual({ traceCtx: [CTX, CTX], runs: 1, result: 1 });
        expect(b.calls).toEqual(ALL_CALLS);
        expect(log.lines.map(([, , f]) => f?.hook)).toEqual(["publish.end", "attempt.run", "attempt.end", "dagSubmit.end"]);
      });
    }
  }

  it("what the handler itself throws passes through every observer's run, unlogged", () => {
    const log = recordingLogger();
    const a = recorder();
    const b = recorder();
    const safe = safeTelemetry(combineTelemetry(a.telemetry, b.telemetry), log, "worker.telemetry")!;
    const own = new Error("the handler's own");
    expect(() =>
      safe.attempt(attemptEvent)!.run(() => {
        throw own;
      }),
    ).toThrow(own);
    expect([a.calls, b.calls]).toEqual([
      ["attempt", "run>", "run<"],
      ["attempt", "run>", "run<"],
    ]);
    expect(log.lines).toEqual([]);
  });

  it("the last traceCtx given wins; combined combinations flatten", () => {
    const other = { traceparent: "00-11111111111111111111111111111111-2222222222222222-01" };
    const c: Telemetry = { publish: () => ({ traceCtx: other, end: () => {} }) };
    const b = recorder();
    const safe = safeTelemetry(combineTelemetry(combineTelemetry(b.telemetry, c), { schedulerEvent: () => {} }), recordingLogger(), "client.telemetry")!;
    expect(safe.publish(publishEvent)?.traceCtx).toEqual(other);
  });
});

describe("async hooks that reject", () => {
  it("are caught and reported like a throw (no unhandled rejection); the other observer keeps its calls", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const log = recordingLogger();
      const reject = async (): Promise<never> => {
        await Promise.resolve();
        throw new Error("async boom");
      };
      const asyncHooks = {
        publish: reject,
        attempt: () => ({ run: async () => reject(), end: reject }),
        deadLetter: reject,
        dagSubmit: () => ({ end: reject }),
        schedulerEvent: reject,
      } as unknown as Telemetry;
      const b = recorder();
      expect(driveAll(combineTelemetry(asyncHooks, b.telemetry)!, log)).toEqual({ traceCtx: [CTX, CTX], runs: 1, result: 1 });
      expect(b.calls).toEqual(ALL_CALLS);
      const hooks = (): unknown[] => log.lines.map(([, , f]) => f?.hook).sort();
      const expected = ["attempt.end", "attempt.run", "dagSubmit.end", "deadLetter", "publish", "schedulerEvent"];
      await eventually(async () => hooks().length === expected.length, "every rejection reported");
      expect(hooks()).toEqual(expected);
      expect(log.lines.find(([, , f]) => f?.hook === "deadLetter")?.[2]).toMatchObject({ error: "async boom" });
      // One more turn of the event loop: Node reports an unhandled rejection by then.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("an async run that rejects after its function settled leaves the handler's result alone", async () => {
    const log = recordingLogger();
    const safe = safeTelemetry(
      {
        attempt: () => ({
          run: (async (fn: () => Promise<number>) => {
            await fn();
            throw new Error("after");
          }) as never,
          end: () => {},
        }),
      },
      log,
      "worker.telemetry",
    )!;
    let runs = 0;
    await expect(safe.attempt(attemptEvent)!.run(async () => ++runs)).resolves.toBe(1);
    expect(runs).toBe(1);
    await eventually(async () => log.lines.length === 1, "the rejection reported");
    expect(log.lines[0]![2]).toMatchObject({ hook: "attempt.run", error: "after" });
  });

  it("an async run that calls its function only after returning cannot run the handler twice", async () => {
    const log = recordingLogger();
    let late: Promise<unknown> | undefined;
    const safe = safeTelemetry(
      {
        attempt: () => ({
          run: ((fn: () => unknown) => (late = Promise.resolve().then(fn))) as never,
          end: () => {},
        }),
      },
      log,
      "worker.telemetry",
    )!;
    let runs = 0;
    expect(safe.attempt(attemptEvent)!.run(() => ++runs)).toBe(1);
    await expect(late).rejects.toThrow("run called its function after returning");
    expect(runs).toBe(1);
    expect(log.lines.map(([, , f]) => f?.hook)).toEqual(["attempt.run"]);
  });
});

it("a run that swallows the handler's error cannot turn a failure into a success", () => {
  const log = recordingLogger();
  const safe = safeTelemetry(
    {
      attempt: () => ({
        run: ((fn: () => unknown) => {
          try {
            return fn();
          } catch {
            return "fine";
          }
        }) as never,
        end: () => {},
      }),
    },
    log,
    "worker.telemetry",
  )!;
  const own = new Error("the handler's own");
  expect(() =>
    safe.attempt(attemptEvent)!.run(() => {
      throw own;
    }),
  ).toThrow(own);
  expect(log.lines.map(([, , f]) => f?.hook)).toEqual(["attempt.run"]);
});
