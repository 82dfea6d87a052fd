/**
 * safeTelemetry: a telemetry option is checked once, and no hook can break a task — a throwing
 * hook is logged once per hook and ignored; `run` runs its function exactly once whatever the
 * hook does.
 */
import { describe, expect, it } from "vitest";
import { combineTelemetry, type Telemetry } from "../../../src/broker/index.js";
import { safeTelemetry } from "../../../src/broker/telemetry-guard.js";
import { EbindError, TaskError } from "../../../src/task/index.js";
import { recordingLogger } from "../../support/logger.js";

const task = { id: "t1", name: "x", payload: "[]", enqueuedAt: new Date(0), attempt: 1 };
const attemptEvent = { task, subject: "TASKS.x", durable: "d", workerId: "w", deliveryCount: 1, queueWaitMs: 0 };
const publishEvent = { kind: "enqueue" as const, task, subject: "TASKS.x" };

function boom(): never {
  throw new Error("boom");
}

describe("safeTelemetry", () => {
  it("undefined stays undefined (nothing to call)", () => {
    expect(safeTelemetry(undefined, recordingLogger(), "worker.telemetry")).toBeUndefined();
  });

  it("refuses what is not an object of hooks, naming the option", () => {
    const log = recordingLogger();
    const err = (value: unknown): unknown => {
      try {
        safeTelemetry(value as Telemetry, log, "client.telemetry");
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(err(null)).toBeInstanceOf(EbindError);
    expect(err(null)).toMatchObject({ code: "invalid_argument" });
    expect((err("yes") as Error).message).toMatch(/client\.telemetry must be an object of hooks/);
    expect((err({ attempt: "no" }) as Error).message).toMatch(/client\.telemetry\.attempt must be a function, got string/);
    expect(err({ attempt: () => undefined })).toBeUndefined();
  });

  it("refuses an object with none of the hooks (e.g. prometheusMetrics() itself instead of its .telemetry)", () => {
    const log = recordingLogger();
    const hint = "worker.telemetry has none of the hooks publish, attempt, deadLetter, dagSubmit, schedulerEvent; for prometheusMetrics() pass its .telemetry";
    expect(() => safeTelemetry({}, log, "worker.telemetry")).toThrow(hint);
    const metricsLike = { telemetry: { attempt: () => undefined }, registry: {}, metrics: async () => "" };
    expect(() => safeTelemetry(metricsLike as never, log, "worker.telemetry")).toThrow(expect.objectContaining({ code: "invalid_argument", message: hint }));
    // Hooks on a prototype (a class instance) count.
    class Only {
      schedulerEvent(): void {}
    }
    expect(safeTelemetry(new Only(), log, "worker.telemetry")).toBeDefined();
  });

  it("a throwing hook is ignored and logged once per hook", () => {
    const log = recordingLogger();
    const safe = safeTelemetry({ publish: boom, attempt: boom, deadLetter: boom, dagSubmit: boom, schedulerEvent: boom }, log, "worker.telemetry")!;
    for (let i = 0; i < 3; i++) {
      expect(safe.publish(publishEvent)).toBeUndefined();
      expect(safe.attempt(attemptEvent)).toBeUndefined();
      safe.deadLetter({ task, error: new TaskError("k", "m"), subject: "DLQ.x" });
      expect(safe.dagSubmit({ dagId: "d", steps: 1, labels: [] })).toBeUndefined();
      safe.schedulerEvent({ dagId: "d", kind: "completed", lagMs: 1 });
    }
    expect(log.lines.map(([level, , f]) => [level, f?.hook])).toEqual([
      ["warn", "publish"],
      ["warn", "attempt"],
      ["warn", "deadLetter"],
      ["warn", "dagSubmit"],
      ["warn", "schedulerEvent"],
    ]);
    expect(log.lines[0]![1]).toMatch(/^worker\.telemetry: the telemetry hook publish threw; ignored/);
    expect(log.lines[0]![2]).toMatchObject({ error: "boom" });
  });

  it("a scope's end is called at most once and may throw; a bad traceCtx is dropped", () => {
    const log = recordingLogger();
    let ends = 0;
    const safe = safeTelemetry(
      {
        publish: () => ({
          traceCtx: { traceparent: 5 } as never,
          end: () => {
            ends++;
            boom();
          },
        }),
      },
      log,
      "client.telemetry",
    )!;
    const scope = safe.publish(publishEvent)!;
    expect(scope.traceCtx).toBeUndefined();
    scope.end();
    scope.end(new Error("again"));
    expect(ends).toBe(1);
    expect(log.lines.map(([, , f]) => f?.hook)).toEqual(["publish.traceCtx", "publish.end"]);
  });

  it("run calls its function exactly once whatever the hook's run does", () => {
    const cases: Array<[string, (fn: () => unknown) => unknown]> = [
      ["throws before", () => boom()],
      ["never calls", () => "something else"],
      ["throws after", (fn) => {
        fn();
        boom();
      }],
      ["well-behaved", (fn) => fn()],
    ];
    for (const [what, run] of cases) {
      const log = recordingLogger();
      const safe = safeTelemetry({ attempt: () => ({ run: run as never, end: () => {} }) }, log, "worker.telemetry")!;
      let calls = 0;
      const result = safe.attempt(attemptEvent)!.run(() => {
        calls++;
        return 42;
      });
      expect([what, calls, result]).toEqual([what, 1, 42]);
      expect(log.lines.length).toBe(what === "well-behaved" ? 0 : 1);
    }
  });

  it("what the function itself throws passes through run, unlogged", () => {
    const log = recordingLogger();
    const safe = safeTelemetry({ attempt: () => ({ run: (fn) => fn(), end: () => {} }) }, log, "worker.telemetry")!;
    const own = new Error("the handler's own");
    expect(() =>
      safe.attempt(attemptEvent)!.run(() => {
        throw own;
      }),
    ).toThrow(own);
    expect(log.lines).toEqual([]);
  });
});

describe("combineTelemetry's arguments", () => {
  const hooks: Telemetry = { schedulerEvent: () => {} };

  it("skips undefined; none left gives undefined, one gives it back", () => {
    expect(combineTelemetry()).toBeUndefined();
    expect(combineTelemetry(undefined, undefined)).toBeUndefined();
    expect(combineTelemetry(undefined, hooks)).toBe(hooks);
  });

  it("refuses an observer that is not an object of hooks, naming its position", () => {
    expect(() => combineTelemetry("nope" as never)).toThrow(expect.objectContaining({ code: "invalid_argument", message: expect.stringContaining("combineTelemetry argument 1 must be an object of hooks") }));
    expect(() => combineTelemetry(hooks, null as never)).toThrow("combineTelemetry argument 2 must be an object of hooks (publish, attempt, deadLetter, dagSubmit, schedulerEvent), got null");
    expect(() => combineTelemetry(undefined, {})).toThrow("combineTelemetry argument 2 has none of the hooks publish, attempt, deadLetter, dagSubmit, schedulerEvent; for prometheusMetrics() pass its .telemetry");
    expect(() => combineTelemetry(hooks, { attempt: 3 } as never)).toThrow("combineTelemetry argument 2.attempt must be a function, got number");
  });
});
