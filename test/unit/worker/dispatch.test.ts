/**
 * Running one attempt (src/worker/dispatch.ts): a deadline or a cancel ends the attempt at once
 * with its own error; a handler whose attempt ended before it could start is not called at all (a
 * cancel landing between the workflow's start gate and the call: issue 11's new-user break test).
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../src/broker/index.js";
import { ErrKind, TaskError } from "../../../src/task/index.js";
import type { Task } from "../../../src/task/index.js";
import { dispatch } from "../../../src/worker/dispatch.js";
import { LazyAbort, type Abortable } from "../../../src/worker/lazy-abort.js";
import type { TaskHandler } from "../../../src/worker/middleware.js";

const task: Task = { id: "t1", name: "h", payload: "[]", enqueuedAt: new Date(), attempt: 1 };

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
    const { outcome, finished } = await dispatch(handler, task, "w", running, systemClock, controller, true);
    await finished;
    expect(called).toBe(false);
    expect(outcome).toEqual({ ok: false, error: canceled });
    expect(running.size).toBe(0);
  });

  it("a cancel while the handler runs ends the attempt at once with kind canceled, whatever the handler does", async () => {
    const controller = new LazyAbort();
    let release!: () => void;
    const handler: TaskHandler = () => new Promise<string>((resolve) => (release = () => resolve('"late"')));
    const pending = dispatch(handler, task, "w", new Set(), systemClock, controller, true);
    await new Promise((r) => setTimeout(r, 10));
    controller.abort(new TaskError(ErrKind.Canceled, "DAG d was canceled", { retryable: false }));
    const { outcome, finished } = await pending;
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.kind).toBe("canceled");
    release();
    await finished;
  });

  it("an abort for another reason (a shutdown) does not end the attempt: the handler's own outcome counts", async () => {
    const controller = new LazyAbort();
    const handler: TaskHandler = async (ctx) => (ctx.signal.aborted ? '"saw the abort"' : '"no abort"');
    controller.abort(new TaskError(ErrKind.Handler, "worker shut down"));
    const { outcome } = await dispatch(handler, task, "w", new Set(), systemClock, controller, true);
    expect(outcome).toEqual({ ok: true, result: '"saw the abort"' });
  });
});
