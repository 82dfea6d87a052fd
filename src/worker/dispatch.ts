/**
 * Running one attempt of a task's handler chain (DESIGN.md §4, issue 12):
 * - the task's deadline and the attempt timeout abort the handler's `AbortSignal` and end the
 *   attempt at once with kind `deadline` (not retried) or `timeout` (retryable), even if the
 *   handler ignores the signal;
 * - both judge the handler, not the middleware around it: once the innermost handler has returned
 *   (see {@link judgeHandler}), time the middleware spends afterwards cannot fail the attempt;
 * - a cancel (kind `canceled`, from the workflow) or a hand-back at shutdown ({@link HandedBack})
 *   ends the attempt the same way; a handed-back attempt produces no outcome to record;
 * - a handler that has not returned `abortGraceMs` after such an abort is abandoned: its slot is
 *   given back (`finished` settles) and `onAbandoned` reports it, while it keeps running.
 * @module
 */
import type { Task } from "../task/envelope.js";
import { ErrKind, TaskError, toTaskError } from "../task/errors.js";
import type { HandlerContext } from "../task/handler.js";
import type { TaskHandler } from "./middleware.js";
import type { Clock, TimerHandle } from "../broker/clock.js";
import type { LazyAbort} from "./lazy-abort.js";
import { type Abortable } from "./lazy-abort.js";

/** What one attempt produced: a result, a failure, or nothing to record (handed back at shutdown). */
export type Outcome =
  | { readonly ok: true; readonly result: string | undefined }
  | { readonly ok: false; readonly error: TaskError; readonly handedBack?: boolean };

/** The attempt's outcome, and a promise that settles when the handler has returned or was abandoned. */
export interface Dispatched {
  readonly outcome: Outcome;
  readonly finished: Promise<void>;
}

/**
 * The abort reason of an attempt the worker gives back to the queue at shutdown: the attempt ends
 * with no outcome (no response, no DLQ entry, no step record); the message runs again elsewhere.
 */
export class HandedBack extends TaskError {
  constructor() {
    super(ErrKind.Canceled, "the worker shut down before the handler finished; the task was handed back to the queue", { retryable: true });
  }
}

/** Limits of one attempt, all on the worker's clock. */
export interface AttemptLimits {
  /** The task's deadline, in ms since the epoch on this worker's clock; undefined: none. */
  readonly deadlineAt?: number | undefined;
  /** The longest this attempt may run, in ms; undefined: no limit. */
  readonly attemptTimeoutMs?: number | undefined;
  /** How long after an ending abort the handler may take to return before it is abandoned. */
  readonly abortGraceMs: number;
  /** Called once when the handler is abandoned (it did not return within `abortGraceMs` of its abort). */
  readonly onAbandoned?: ((reason: TaskError) => void) | undefined;
  /** Called when an abandoned handler finally returns. */
  readonly onReturnedLate?: (() => void) | undefined;
}

/** An abort that ends the attempt at once with its reason as the error. */
function endsAttempt(reason: unknown): reason is TaskError {
  return reason instanceof TaskError && (reason.kind === ErrKind.Deadline || reason.kind === ErrKind.Canceled || reason.kind === ErrKind.Timeout);
}

/** Where a context carries its {@link Attempt}, for {@link judgeHandler}. */
const ATTEMPT = Symbol("ebind.attempt");

type Judged = HandlerContext & { [ATTEMPT]?: Attempt };

/**
 * One attempt's state, shared by {@link dispatch} and {@link judgeHandler}. Kept to a few promises:
 * this runs for every task.
 */
class Attempt {
  readonly timers: TimerHandle[] = [];
  /** Resolves the attempt's outcome: the chain's own, or an ending abort's. */
  settle!: (outcome: Outcome) => void;
  readonly outcome = new Promise<Outcome>((resolve) => (this.settle = resolve));
  /** Resolves `finished`: the user's function returned, or was abandoned. */
  finish!: () => void;
  readonly finished = new Promise<void>((resolve) => (this.finish = resolve));
  /** Whether the user's function was called, whether it has returned, whether it was abandoned. */
  started = false;
  returned = false;
  abandoned = false;
  /** Rejects the innermost wrapper's promise when an abort ends the attempt. */
  endInner: ((reason: TaskError) => void) | undefined;

  constructor(
    private readonly clock: Clock,
    /** Called once when the user's function returns. */
    private readonly onReturn: (late: boolean) => void,
  ) {}

  stopTimers(): void {
    for (const t of this.timers.splice(0)) this.clock.clearTimer(t);
  }

  /** The user's function returned (or threw). */
  userReturned(): void {
    if (this.returned) return;
    this.returned = true;
    this.stopTimers();
    this.onReturn(this.abandoned);
    this.finish();
  }

  /** Gives the slot back while the user's function keeps running. */
  abandon(): void {
    this.abandoned = true;
    this.finish();
  }
}

/**
 * Wraps the innermost handler (the user's function):
 * - once it returns, the deadline and the attempt timeout stop counting, so middleware that keeps
 *   working afterwards (metrics, logging) cannot turn a result returned in time into a failure;
 * - when an abort ends the attempt, the wrapper rejects with the abort's reason at once, so every
 *   middleware sees the attempt end (the metrics middleware records it) even if the user's function
 *   ignores its signal and never returns; the worker keeps the slot until that function returns or
 *   is abandoned.
 * Middleware that builds a new context keeps the attempt if it spreads the old one (`{ ...ctx, … }`).
 */
export function judgeHandler(inner: TaskHandler): TaskHandler {
  return (ctx) => {
    const attempt = (ctx as Judged)[ATTEMPT];
    if (!attempt) return invoke(inner, ctx);
    attempt.started = true;
    return new Promise<string | undefined>((resolve, reject) => {
      attempt.endInner = reject;
      let run: Promise<string | undefined>;
      try {
        run = inner(ctx);
      } catch (err) {
        // Passed on as thrown, Error or not: the recover middleware decides what a non-Error means.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        run = Promise.reject(err);
      }
      run.then(
        (result) => {
          attempt.userReturned();
          resolve(result);
        },
        (err: unknown) => {
          attempt.userReturned();
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(err);
        },
      );
    });
  };
}

function outcomeOf(reason: TaskError): Outcome {
  return reason instanceof HandedBack ? { ok: false, error: reason, handedBack: true } : { ok: false, error: reason };
}

/**
 * Runs `handler` for `task`. While it runs, its controller is in `running`, so the worker can abort
 * every handler it gives up on at shutdown. Never rejects.
 * @param controller the handler's abort controller, when the caller made it (to hand it to others
 *   before the handler starts).
 */
export async function dispatch(
  handler: TaskHandler,
  task: Task,
  workerId: string,
  running: Set<Abortable>,
  clock: Clock,
  controller: LazyAbort,
  limits: AttemptLimits,
): Promise<Dispatched> {
  const attempt = new Attempt(clock, (late) => {
    running.delete(controller);
    if (late) limits.onReturnedLate?.();
  });
  const ctx: Judged = {
    get signal() {
      return controller.signal;
    },
    task,
    attempt: task.attempt,
    workerId,
    deadline: limits.deadlineAt === undefined ? undefined : new Date(limits.deadlineAt),
    [ATTEMPT]: attempt,
  };
  // Aborted before it could start (a cancel that landed between the start gate and now): the
  // handler is not called at all.
  const early: unknown = controller.reason;
  if (controller.aborted && endsAttempt(early)) return { outcome: outcomeOf(early), finished: Promise.resolve() };

  running.add(controller);
  if (limits.deadlineAt !== undefined) {
    const remaining = limits.deadlineAt - clock.now();
    attempt.timers.push(
      clock.setTimer(
        () => controller.abort(new TaskError(ErrKind.Deadline, `deadline exceeded after ${Math.max(0, Math.round(remaining))} ms`, { retryable: false })),
        Math.min(Math.max(remaining, 0), 2_147_483_647),
      ),
    );
  }
  if (limits.attemptTimeoutMs !== undefined) {
    const ms = limits.attemptTimeoutMs;
    attempt.timers.push(clock.setTimer(() => controller.abort(new TaskError(ErrKind.Timeout, `attempt ${task.attempt} timed out after ${ms} ms`, { retryable: true })), ms));
  }
  controller.onAbort((reason) => {
    if (!endsAttempt(reason)) return;
    attempt.settle(outcomeOf(reason));
    attempt.endInner?.(reason);
    if (attempt.returned) return;
    attempt.timers.push(
      clock.setTimer(() => {
        if (attempt.returned) return;
        limits.onAbandoned?.(reason);
        attempt.abandon();
      }, limits.abortGraceMs),
    );
  });
  invoke(handler, ctx).then(
    (result) => {
      attempt.settle({ ok: true, result });
      // Middleware that never called the user's function: the chain's end is the handler's end.
      if (!attempt.started) attempt.userReturned();
    },
    (thrown: unknown) => {
      // A handler that rejects because its signal aborted (deadline, timeout, cancel) failed so.
      const reason: unknown = controller.reason;
      attempt.settle(controller.aborted && endsAttempt(reason) ? outcomeOf(reason) : { ok: false, error: toTaskError(thrown) });
      if (!attempt.started) attempt.userReturned();
    },
  );
  return { outcome: await attempt.outcome, finished: attempt.finished };
}

/** Calls the handler so that a synchronous throw becomes a rejection. */
async function invoke(handler: TaskHandler, ctx: HandlerContext): Promise<string | undefined> {
  return handler(ctx);
}
