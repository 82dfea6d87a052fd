/**
 * Running one task's handler chain with its deadline (DESIGN.md §4): the context's `AbortSignal`
 * aborts when the deadline passes and the attempt fails with kind `deadline`, non-retryable, even
 * if the handler ignores the signal. Whoever else aborts the controller with a {@link TaskError} of
 * kind `canceled` (the workflow, for a step of a canceled DAG) ends the attempt the same way.
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

/** An abort that ends the attempt at once with its reason as the error: the deadline, or a cancel. */
function endsAttempt(reason: unknown): reason is TaskError {
  return reason instanceof TaskError && (reason.kind === ErrKind.Deadline || reason.kind === ErrKind.Canceled);
}

/**
 * Runs `handler` for `task`. While it runs, its controller is in `running`, so the worker can abort
 * every handler it gives up on at shutdown. Never rejects.
 * @param controller the handler's abort controller, when the caller made it (to hand it to others
 *   before the handler starts); `abortable` says whether anyone but the deadline may abort it.
 */
export async function dispatch(
  handler: TaskHandler,
  task: Task,
  workerId: string,
  running: Set<Abortable>,
  clock: Clock,
  controller: LazyAbort = new LazyAbort(),
  abortable = false,
): Promise<Dispatched> {
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
  let stopped: Promise<Outcome> | undefined;
  if (task.deadline || abortable) {
    stopped = new Promise<Outcome>((resolve) => controller.onAbort((reason) => endsAttempt(reason) && resolve({ ok: false, error: reason })));
  }
  if (task.deadline) {
    const remaining = task.deadline.getTime() - clock.now();
    timer = clock.setTimer(
      () => controller.abort(new TaskError(ErrKind.Deadline, `deadline exceeded after ${Math.max(0, Math.round(remaining))} ms`, { retryable: false })),
      Math.min(Math.max(remaining, 0), 2_147_483_647),
    );
  }

  // Aborted before it could start (a cancel that landed between the start gate and now): the
  // handler is not called at all.
  const early: unknown = controller.reason;
  if (controller.aborted && endsAttempt(early)) {
    if (timer) clock.clearTimer(timer);
    running.delete(controller);
    return { outcome: { ok: false, error: early }, finished: Promise.resolve() };
  }
  const run: Promise<Outcome> = invoke(handler, ctx).then(
    (result): Outcome => ({ ok: true, result }),
    (thrown: unknown): Outcome => {
      // A handler that rejects because its signal aborted at the deadline (or by a cancel) failed so.
      const reason: unknown = controller.reason;
      if (controller.aborted && endsAttempt(reason)) return { ok: false, error: reason };
      return { ok: false, error: toTaskError(thrown) };
    },
  );
  const finished = run.then(() => {
    if (timer) clock.clearTimer(timer);
    running.delete(controller);
  });
  const outcome = stopped ? await Promise.race([run, stopped]) : await run;
  return { outcome, finished };
}

/** Calls the handler so that a synchronous throw becomes a rejection. */
async function invoke(handler: TaskHandler, ctx: HandlerContext): Promise<string | undefined> {
  return handler(ctx);
}
