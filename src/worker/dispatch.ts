/**
 * Running one task's handler chain with its deadline (DESIGN.md §4): the context's `AbortSignal`
 * aborts when the deadline passes and the attempt fails with kind `deadline`, non-retryable, even
 * if the handler ignores the signal.
 * @module
 */
import type { Task } from "../task/envelope.js";
import { ErrKind, TaskError, toTaskError } from "../task/errors.js";
import type { HandlerContext } from "../task/handler.js";
import type { TaskHandler } from "./middleware.js";
import type { Clock, TimerHandle } from "../broker/clock.js";
import { LazyAbort, type Abortable } from "./lazy-abort.js";

/** What one attempt produced. */
export type Outcome = { readonly ok: true; readonly result: string | undefined } | { readonly ok: false; readonly error: TaskError };

/** The attempt's outcome, and a promise that settles when the handler itself has returned. */
export interface Dispatched {
  readonly outcome: Outcome;
  readonly finished: Promise<void>;
}

/**
 * Runs `handler` for `task`. While it runs, its controller is in `running`, so the worker can abort
 * every handler it gives up on at shutdown. Never rejects.
 */
export async function dispatch(handler: TaskHandler, task: Task, workerId: string, running: Set<Abortable>, clock: Clock): Promise<Dispatched> {
  const controller = new LazyAbort();
  running.add(controller);
  const ctx: HandlerContext = {
    get signal() {
      return controller.signal;
    },
    task,
    attempt: task.attempt,
    workerId,
    deadline: task.deadline,
  };

  let timer: TimerHandle | undefined;
  let deadlineHit: Promise<Outcome> | undefined;
  if (task.deadline) {
    const remaining = task.deadline.getTime() - clock.now();
    deadlineHit = new Promise<Outcome>((resolve) => {
      timer = clock.setTimer(
        () => {
          const error = new TaskError(ErrKind.Deadline, `deadline exceeded after ${Math.max(0, Math.round(remaining))} ms`, { retryable: false });
          controller.abort(error);
          resolve({ ok: false, error });
        },
        Math.min(Math.max(remaining, 0), 2_147_483_647),
      );
    });
  }

  const run: Promise<Outcome> = invoke(handler, ctx).then(
    (result): Outcome => ({ ok: true, result }),
    (thrown: unknown): Outcome => {
      // A handler that rejects because its signal aborted at the deadline failed by deadline.
      const reason: unknown = controller.reason;
      if (controller.aborted && reason instanceof TaskError && reason.kind === ErrKind.Deadline) return { ok: false, error: reason };
      return { ok: false, error: toTaskError(thrown) };
    },
  );
  const finished = run.then(() => {
    if (timer) clock.clearTimer(timer);
    running.delete(controller);
  });
  const outcome = deadlineHit ? await Promise.race([run, deadlineHit]) : await run;
  return { outcome, finished };
}

/** Calls the handler so that a synchronous throw becomes a rejection. */
async function invoke(handler: TaskHandler, ctx: HandlerContext): Promise<string | undefined> {
  return handler(ctx);
}
