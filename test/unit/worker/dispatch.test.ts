/**
 * Running one attempt (src/worker/dispatch.ts): a deadline or a cancel ends the attempt at once
 * with its own error; a handler whose attempt ended before it could start is not called at all (a
 * cancel landing between the workflow's start gate and the call: issue 11's new-user break test).
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../src/broker/index.js";
import { ErrKind, TaskError } from "../../../src/task/index.js";
import type { Task } from "../../../src/task/index.js";
import { dispatch, HandedBack, judgeHandler, type AttemptLimits } from "../../../src/worker/dispatch.js";
import { chain } from "../../../src/worker/middleware.js";
import { LazyAbort, type Abortable } from "../../../src/worker/lazy-abort.js";
import type { TaskHandler } from "../../../src/worker/middleware.js";

const task: Task = { id: "t1", name: "h", payload: "[]", enqueuedAt: new Date(), attempt: 1 };
const limits: AttemptLimits = { abortGraceMs: 1000 };

describe("dispatch", () => {
  it("does not call a handler whose controller was aborted with a cancel before the call", async () => {
    let called = false;
    const handler: TaskHandler = async () => {
      called = true;
      return "ran";
    };
    const controller = new LazyAbort();
    const canceled = new TaskError(ErrKind.Canceled, "DAG d was canceled", { retryable: false });
    controller.abort(canceled);
    const running = new Set<Abortable>();
    const { outcome, finished } = await dispatch(handler, task, "w", running, systemClock, controller, limits);
    await finished;
    expect(called).toBe(false);
    expect(outcome).toEqual({ ok: false, error: canceled });
    expect(running.size).toBe(0);
  });

  it("a cancel while the handler runs ends the attempt at once with kind canceled, whatever the handler does", async () => {
    const controller = new LazyAbort();
    let release!: () => void;
    const handler: TaskHandler = () => new Promise<string>((resolve) => (release = () => resolve('"late"')));
    const pending = dispatch(handler, task, "w", new Set(), systemClock, controller, limits);
    await new Promise((r) => setTimeout(r, 10));
    controller.abort(new TaskError(ErrKind.Canceled, "DAG d was canceled", { retryable: false }));
    const { outcome, finished } = await pending;
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.kind).toBe("canceled");
    release();
    await finished;
  });

  it("an abort for another reason (a handler-kind error) does not end the attempt: the handler's own outcome counts", async () => {
    const controller = new LazyAbort();
    const handler: TaskHandler = async (ctx) => (ctx.signal.aborted ? '"saw the abort"' : '"no abort"');
    controller.abort(new TaskError(ErrKind.Handler, "worker shut down"));
    const { outcome } = await dispatch(handler, task, "w", new Set(), systemClock, controller, limits);
    expect(outcome).toEqual({ ok: true, result: '"saw the abort"' });
  });

  it("a hand-back at shutdown ends the attempt with nothing to record, even if the handler returns later", async () => {
    const controller = new LazyAbort();
    let release!: () => void;
    const handler: TaskHandler = () => new Promise<string>((resolve) => (release = () => resolve('"late"')));
    const pending = dispatch(handler, task, "w", new Set(), systemClock, controller, limits);
    await new Promise((r) => setTimeout(r, 10));
    controller.abort(new HandedBack());
    const { outcome, finished } = await pending;
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.handedBack).toBe(true);
    release();
    await finished;
  });

  it("the deadline judges the handler: middleware time after it returned does not fail the attempt", async () => {
    const inner: TaskHandler = async () => '"in time"';
    const slowAfter = (next: TaskHandler): TaskHandler => async (ctx) => {
      const result = await next(ctx);
      await new Promise((r) => setTimeout(r, 120));
      return result;
    };
    const handler = chain([slowAfter], judgeHandler(inner));
    const { outcome } = await dispatch(handler, task, "w", new Set(), systemClock, new LazyAbort(), { ...limits, deadlineAt: Date.now() + 40 });
    expect(outcome).toEqual({ ok: true, result: '"in time"' });
  });

  it("without the judge marker the same middleware time would be a deadline failure (the control)", async () => {
    const slow: TaskHandler = async () => {
      await new Promise((r) => setTimeout(r, 120));
      return '"too late"';
    };
    const { outcome } = await dispatch(slow, task, "w", new Set(), systemClock, new LazyAbort(), { ...limits, deadlineAt: Date.now() + 40 });
    expect(!outcome.ok && outcome.error.kind).toBe(ErrKind.Deadline);
  });

  it("an attempt timeout aborts the signal with kind timeout, retryable", async () => {
    const handler: TaskHandler = (ctx) => new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error)));
    const { outcome } = await dispatch(handler, task, "w", new Set(), systemClock, new LazyAbort(), { ...limits, attemptTimeoutMs: 30 });
    expect(!outcome.ok && outcome.error.kind).toBe(ErrKind.Timeout);
    expect(!outcome.ok && outcome.error.retryable).toBe(true);
  });

  it("a handler that ignores its abort is abandoned after abortGraceMs: finished settles, and it is reported once", async () => {
    const abandoned: string[] = [];
    let returnedLate = false;
    let release!: () => void;
    const handler: TaskHandler = () => new Promise<string>((resolve) => (release = () => resolve('"never seen"')));
    const { outcome, finished } = await dispatch(handler, task, "w", new Set(), systemClock, new LazyAbort(), {
      deadlineAt: Date.now() + 20,
      abortGraceMs: 50,
      onAbandoned: (reason) => abandoned.push(reason.kind),
      onReturnedLate: () => (returnedLate = true),
    });
    expect(!outcome.ok && outcome.error.kind).toBe(ErrKind.Deadline);
    await finished; // settles without the handler returning
    expect(abandoned).toEqual([ErrKind.Deadline]);
    expect(returnedLate).toBe(false);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(returnedLate).toBe(true);
  });

  it("middleware sees an attempt ended by its deadline even when the handler never returns (the metrics middleware records it)", async () => {
    const seen: string[] = [];
    const recordEnd = (next: TaskHandler): TaskHandler => async (ctx) => {
      try {
        return await next(ctx);
      } catch (err) {
        seen.push((err as TaskError).kind);
        throw err;
      }
    };
    const never: TaskHandler = () => new Promise<string>(() => undefined);
    const handler = chain([recordEnd], judgeHandler(never));
    const { outcome, finished } = await dispatch(handler, task, "w", new Set(), systemClock, new LazyAbort(), { deadlineAt: Date.now() + 20, abortGraceMs: 30 });
    expect(!outcome.ok && outcome.error.kind).toBe(ErrKind.Deadline);
    await finished; // the slot comes back once the handler is abandoned
    expect(seen).toEqual([ErrKind.Deadline]);
  });
});
