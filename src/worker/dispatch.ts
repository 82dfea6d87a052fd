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

/** Where a context carries the attempt's hooks for {@link judgeHandler}. */
const ATTEMPT = Symbol("ebind.attempt");

/** What {@link dispatch} tells the innermost handler wrapper. */
interface AttemptHooks {
  /** The user's handler returned: the deadline and the attempt timeout stop counting. */
  returned(): void;
  /** The user's handler started; `run` settles when it returns. */
  started(run: Promise<unknown>): void;
  /** Rejects with the abort's reason when an abort ends the attempt (deadline, timeout, cancel, hand-back). */
  readonly ended: Promise<never>;
}

type Judged = HandlerContext & { [ATTEMPT]?: AttemptHooks };

/**
 * Wraps the innermost handler (the user's function):
 * - once it returns, the deadline and the attempt timeout stop counting, so middleware that keeps
 *   working afterwards (metrics, logging) cannot turn a result returned in time into a failure;
 * - when an abort ends the attempt, the wrapper rejects with the abort's reason at once, so every
 *   middleware sees the attempt end (the metrics middleware records it) even if the user's function
 *   ignores its signal and never returns; the worker keeps the slot until that function returns or
 *   is abandoned.
 * Middleware that builds a new context keeps these hooks if it spreads the old one (`{ ...ctx, … }`).
 */
export function judgeHandler(inner: TaskHandler): TaskHandler {
  return async (ctx) => {
    const hooks = (ctx as Judged)[ATTEMPT];
    if (!hooks) return inner(ctx);
    const run = invoke(inner, ctx);
    hooks.started(run);
    try {
      return await Promise.race([run, hooks.ended]);
    } finally {
      hooks.returned();
    }
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
  running.add(controller);
  const timers: TimerHandle[] = [];
  const stopTimers = (): void => {
    for (const t of timers.splice(0)) clock.clearTimer(t);
  };
  let endWith!: (reason: TaskError) => void;
  const ended = new Promise<never>((_, reject) => (endWith = reject));
  ended.catch(() => undefined); // observed by whoever races it; never an unhandled rejection
  let userRun: Promise<unknown> | undefined;
  const hooks: AttemptHooks = {
    returned: stopTimers,
    started: (run) => {
      userRun = run;
    },
    ended,
  };
  const ctx: Judged = {
    get signal() {
      return controller.signal;
    },
    task,
    attempt: task.attempt,
    workerId,
    deadline: limits.deadlineAt === undefined ? undefined : new Date(limits.deadlineAt),
    [ATTEMPT]: hooks,
  };
  if (limits.deadlineAt !== undefined) {
    const remaining = limits.deadlineAt - clock.now();
    timers.push(
      clock.setTimer(
        () => controller.abort(new TaskError(ErrKind.Deadline, `deadline exceeded after ${Math.max(0, Math.round(remaining))} ms`, { retryable: false })),
        Math.min(Math.max(remaining, 0), 2_147_483_647),
      ),
    );
  }
  if (limits.attemptTimeoutMs !== undefined) {
    const ms = limits.attemptTimeoutMs;
    timers.push(clock.setTimer(() => controller.abort(new TaskError(ErrKind.Timeout, `attempt ${task.attempt} timed out after ${ms} ms`, { retryable: true })), ms));
  }

  // Aborted before it could start (a cancel that landed between the start gate and now): the
  // handler is not called at all.
  const early: unknown = controller.reason;
  if (controller.aborted && endsAttempt(early)) {
    stopTimers();
    running.delete(controller);
    return { outcome: outcomeOf(early), finished: Promise.resolve() };
  }

  let stopped: ((outcome: Outcome) => void) | undefined;
  const stoppedOutcome = new Promise<Outcome>((resolve) => (stopped = resolve));
  const chainRun: Promise<Outcome> = invoke(handler, ctx).then(
    (result): Outcome => ({ ok: true, result }),
    (thrown: unknown): Outcome => {
      // A handler that rejects because its signal aborted (deadline, timeout, cancel) failed so.
      const reason: unknown = controller.reason;
      if (controller.aborted && endsAttempt(reason)) return outcomeOf(reason);
      return { ok: false, error: toTaskError(thrown) };
    },
  );
  // The slot is held until the user's function returns (the chain may end earlier, at an abort).
  let returned = false;
  const handlerDone = chainRun
    .then(() => userRun)
    .then(
      () => undefined,
      () => undefined,
    )
    .then(() => {
      returned = true;
      stopTimers();
      running.delete(controller);
    });

  let abandon: (() => void) | undefined;
  const abandoned = new Promise<void>((resolve) => (abandon = resolve));
  controller.onAbort((reason) => {
    if (!endsAttempt(reason)) return;
    stopped!(outcomeOf(reason));
    endWith(reason);
    const grace = clock.setTimer(() => {
      if (returned) return;
      limits.onAbandoned?.(reason);
      void handlerDone.then(() => limits.onReturnedLate?.());
      abandon!();
    }, limits.abortGraceMs);
    void handlerDone.then(() => clock.clearTimer(grace));
  });
  const outcome = await Promise.race([chainRun, stoppedOutcome]);
  return { outcome, finished: Promise.race([handlerDone, abandoned]) };
}

/** Calls the handler so that a synchronous throw becomes a rejection. */
async function invoke(handler: TaskHandler, ctx: HandlerContext): Promise<string | undefined> {
  return handler(ctx);
}
