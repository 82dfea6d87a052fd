/**
 * Calling {@link Telemetry} hooks so that an observer can never break a task: every hook and scope
 * call is caught, the first failure of each hook logged once at warn, and the task goes on as if
 * no telemetry were set. A component resolves its `telemetry` option once with
 * {@link safeTelemetry}; given none, it holds `undefined` and calls nothing (no allocation, no
 * check beyond that one).
 * @module
 */
import type { Logger } from "./logger.js";
import { EbindError } from "../task/errors.js";
import type {
  AttemptEvent,
  AttemptOutcome,
  AttemptScope,
  DagSubmitEvent,
  DagSubmitScope,
  DeadLetterEvent,
  PublishEvent,
  PublishScope,
  SchedulerEvent,
  Telemetry,
  TraceCarrier,
} from "./telemetry.js";

/** The hooks of {@link Telemetry}, by name. */
export type HookName = "publish" | "attempt" | "deadLetter" | "dagSubmit" | "schedulerEvent";

const HOOKS: readonly HookName[] = ["publish", "attempt", "deadLetter", "dagSubmit", "schedulerEvent"];

/**
 * Checks a `telemetry` option and wraps it for safe calls; undefined stays undefined.
 * @param telemetry the option as given.
 * @param logger where a throwing hook is reported (once per hook).
 * @param path the option's name in messages, e.g. `"worker.telemetry"`.
 * @throws EbindError `invalid_argument` when it is not an object, or one of its hooks is present but
 *   not a function (naming it, e.g. "worker.telemetry.attempt must be a function, got string").
 */
export function safeTelemetry(telemetry: Telemetry | undefined, logger: Logger, path: string): SafeTelemetry | undefined {
  if (telemetry === undefined) return undefined;
  if (typeof telemetry !== "object" || telemetry === null) {
    throw new EbindError("invalid_argument", `${path} must be an object of hooks (publish, attempt, deadLetter, dagSubmit, schedulerEvent), got ${telemetry === null ? "null" : typeof telemetry}`);
  }
  for (const hook of HOOKS) {
    const fn = (telemetry as Readonly<Record<string, unknown>>)[hook];
    if (fn !== undefined && typeof fn !== "function") throw new EbindError("invalid_argument", `${path}.${hook} must be a function, got ${typeof fn}`);
  }
  return new SafeTelemetry(telemetry, logger, path);
}

/** A {@link Telemetry} whose calls never throw; scopes come back wrapped the same way. */
export class SafeTelemetry {
  readonly #warned = new Set<string>();

  constructor(
    readonly telemetry: Telemetry,
    private readonly logger: Logger,
    private readonly path: string,
  ) {}

  /** Reports a hook's failure, once per hook (`where`) for this component. */
  warn(where: string, err: unknown): void {
    if (this.#warned.has(where)) return;
    this.#warned.add(where);
    this.logger.warn(
      { hook: where, error: err instanceof Error ? err.message : String(err) },
      `${this.path}: the telemetry hook ${where} threw; ignored (further failures of it are not logged)`,
    );
  }

  /** {@link Telemetry.publish}, safe: undefined when the hook is missing, returned nothing or threw. */
  publish(event: PublishEvent): PublishScope | undefined {
    if (this.telemetry.publish === undefined) return undefined;
    let scope: PublishScope | undefined;
    try {
      scope = this.telemetry.publish(event);
    } catch (err) {
      this.warn("publish", err);
      return undefined;
    }
    if (scope === undefined || scope === null) return undefined;
    return { traceCtx: this.#carrier(scope, "publish"), end: this.#ender(scope, "publish.end") };
  }

  /** {@link Telemetry.attempt}, safe; its `run` always runs `fn` exactly once. */
  attempt(event: AttemptEvent): AttemptScope | undefined {
    if (this.telemetry.attempt === undefined) return undefined;
    let scope: AttemptScope | undefined;
    try {
      scope = this.telemetry.attempt(event);
    } catch (err) {
      this.warn("attempt", err);
      return undefined;
    }
    if (scope === undefined || scope === null) return undefined;
    const end = this.#ender<AttemptOutcome>(scope, "attempt.end");
    return { run: <T>(fn: () => T): T => this.#run(scope, fn), end };
  }

  /** {@link Telemetry.deadLetter}, safe. */
  deadLetter(event: DeadLetterEvent): void {
    if (this.telemetry.deadLetter === undefined) return;
    try {
      this.telemetry.deadLetter(event);
    } catch (err) {
      this.warn("deadLetter", err);
    }
  }

  /** {@link Telemetry.dagSubmit}, safe. */
  dagSubmit(event: DagSubmitEvent): DagSubmitScope | undefined {
    if (this.telemetry.dagSubmit === undefined) return undefined;
    let scope: DagSubmitScope | undefined;
    try {
      scope = this.telemetry.dagSubmit(event);
    } catch (err) {
      this.warn("dagSubmit", err);
      return undefined;
    }
    if (scope === undefined || scope === null) return undefined;
    return { traceCtx: this.#carrier(scope, "dagSubmit"), end: this.#ender(scope, "dagSubmit.end") };
  }

  /** {@link Telemetry.schedulerEvent}, safe. */
  schedulerEvent(event: SchedulerEvent): void {
    if (this.telemetry.schedulerEvent === undefined) return;
    try {
      this.telemetry.schedulerEvent(event);
    } catch (err) {
      this.warn("schedulerEvent", err);
    }
  }

  /** A scope's trace context when it is a map of strings (it goes on the wire); else undefined, warned. */
  #carrier(scope: { readonly traceCtx?: TraceCarrier | undefined }, where: string): TraceCarrier | undefined {
    let ctx: unknown;
    try {
      ctx = scope.traceCtx;
    } catch (err) {
      this.warn(`${where}.traceCtx`, err);
      return undefined;
    }
    if (ctx === undefined) return undefined;
    if (typeof ctx === "object" && ctx !== null && !Array.isArray(ctx) && Object.values(ctx).every((v) => typeof v === "string")) return ctx as TraceCarrier;
    this.warn(`${where}.traceCtx`, new Error("traceCtx is not an object of string values"));
    return undefined;
  }

  /** A scope's `end`, called at most once and never throwing. */
  #ender<A>(scope: { end(arg?: A): void }, where: string): (arg?: A) => void {
    let ended = false;
    return (arg?: A) => {
      if (ended) return;
      ended = true;
      try {
        scope.end(arg);
      } catch (err) {
        this.warn(where, err);
      }
    };
  }

  /**
   * `scope.run(fn)`, so that `fn` runs exactly once whatever the hook does: a hook that throws
   * before calling it, or returns without calling it, is reported and `fn` is called directly; a
   * hook that throws after `fn` returned is reported and `fn`'s result returned; what `fn` itself
   * throws is passed on.
   */
  #run<T>(scope: AttemptScope, fn: () => T): T {
    let called = false;
    let threw = false;
    let value: T | undefined;
    let thrown: unknown;
    const inner = (): T => {
      called = true;
      try {
        value = fn();
        return value;
      } catch (err) {
        threw = true;
        thrown = err;
        throw err;
      }
    };
    let result: T;
    try {
      result = scope.run(inner);
    } catch (err) {
      if (threw && err === thrown) throw err;
      this.warn("attempt.run", err);
      if (!called) return fn();
      if (threw) throw thrown;
      return value as T;
    }
    if (!called) {
      this.warn("attempt.run", new Error("run returned without calling the function it was given"));
      return fn();
    }
    return result;
  }
}
