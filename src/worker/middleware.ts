/**
 * Middleware around handler dispatch (reference §1.3, §3.6): `recover` is always the outermost
 * layer, then the user's middleware in order (first = outermost), then the registry lookup and
 * the dispatcher. Built-ins: {@link recover}, {@link log}, {@link metrics}.
 * @module
 */
import type { Logger } from "../broker/logger.js";
import { consoleLogger, taskFields } from "../broker/logger.js";
import type { HandlerContext } from "../task/handler.js";
import { ErrKind, TaskError, toTaskError } from "../task/errors.js";

/** One dispatch: runs the task in `ctx.task` and resolves to its raw JSON result (or undefined). */
export type TaskHandler = (ctx: HandlerContext) => Promise<string | undefined>;

/** Wraps a {@link TaskHandler}; may observe, time, change or short-circuit the dispatch. */
export type Middleware = (next: TaskHandler) => TaskHandler;

/** Composes middleware so that the first element is the outermost wrapper. */
export function chain(middleware: readonly Middleware[], base: TaskHandler): TaskHandler {
  return middleware.reduceRight<TaskHandler>((next, mw) => mw(next), base);
}

/**
 * Turns a thrown value that is not an `Error` (JavaScript's closest thing to Go's panic with an
 * arbitrary value) into a `panic` TaskError, non-retryable; `Error`s pass through unchanged and are
 * classified later (kind `handler`, retryable, unless they are TaskErrors). Always installed
 * outermost by the worker.
 */
export function recover(): Middleware {
  return (next) => async (ctx) => {
    try {
      return await next(ctx);
    } catch (thrown) {
      if (thrown instanceof Error) throw thrown;
      throw new TaskError(ErrKind.Panic, describe(thrown), { retryable: false });
    }
  };
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Logs `task.start` (task_id, name, attempt) before each dispatch and `task.done` or `task.error`
 * (with duration_ms and the error) after it (reference §1.3 `Log`).
 * @param logger where to write. @default consoleLogger()
 */
export function log(logger: Logger = consoleLogger()): Middleware {
  return (next) => async (ctx) => {
    const fields = taskFields(ctx.task);
    logger.info(fields, "task.start");
    const started = performance.now();
    try {
      const result = await next(ctx);
      logger.info({ ...fields, duration_ms: round(performance.now() - started) }, "task.done");
      return result;
    } catch (err) {
      logger.error({ ...fields, duration_ms: round(performance.now() - started), error: toTaskError(err).message }, "task.error");
      throw err;
    }
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Receives one observation per dispatch. */
export interface Metrics {
  /**
   * @param name the handler name
   * @param attempt the delivery count
   * @param durationMs how long the dispatch took
   * @param error the failure, or undefined on success
   */
  observe(name: string, attempt: number, durationMs: number, error: TaskError | undefined): void;
}

/** Calls `sink.observe` once per dispatch that reaches this layer (reference §1.3 `WithMetrics`). */
export function metrics(sink: Metrics): Middleware {
  return (next) => async (ctx) => {
    const started = performance.now();
    try {
      const result = await next(ctx);
      sink.observe(ctx.task.name, ctx.attempt, performance.now() - started, undefined);
      return result;
    } catch (err) {
      sink.observe(ctx.task.name, ctx.attempt, performance.now() - started, toTaskError(err));
      throw err;
    }
  };
}
