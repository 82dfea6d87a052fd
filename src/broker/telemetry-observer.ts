/**
 * One observer's hooks, called so that they never throw: what a hook or scope call throws — or, for
 * a hook written `async`, the promise it returns rejects with — goes to a `report` callback instead,
 * and `run` runs its function exactly once whatever the observer's `run` does. {@link SafeTelemetry}
 * (`telemetry-guard.ts`) holds one of these per observer, so a failing observer never costs another
 * its calls; it decides how failures are logged.
 * @module
 */
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

/**
 * Where an observer's failure goes: `where` names the hook or scope call (`"publish"`,
 * `"attempt.run"`, `"publish.traceCtx"`, …); `rejected` is true when it was a returned promise that
 * rejected rather than a throw. Must not throw.
 */
export type ObserverFailureReport = (where: string, err: unknown, rejected: boolean) => void;

/** True for a value with a callable `then` (a promise or promise-like); a throwing `then` getter counts as not. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  try {
    return typeof (value as { then?: unknown }).then === "function";
  } catch {
    return false;
  }
}

/** One observer's {@link Telemetry}, guarded: no method throws, every failure is reported. */
export class ObserverGuard {
  constructor(
    private readonly telemetry: Telemetry,
    private readonly report: ObserverFailureReport,
  ) {}

  /** {@link Telemetry.publish}, guarded: undefined when the hook is missing, returned nothing or threw. */
  publish(event: PublishEvent): PublishScope | undefined {
    if (this.telemetry.publish === undefined) return undefined;
    let scope: PublishScope | undefined;
    try {
      scope = this.telemetry.publish(event);
    } catch (err) {
      this.report("publish", err, false);
      return undefined;
    }
    if (!this.#isScope(scope, "publish")) return undefined;
    return { traceCtx: this.#carrier(scope, "publish"), end: this.#ender(scope, "publish.end") };
  }

  /** {@link Telemetry.attempt}, guarded; its `run` always runs `fn` exactly once. */
  attempt(event: AttemptEvent): AttemptScope | undefined {
    if (this.telemetry.attempt === undefined) return undefined;
    let scope: AttemptScope | undefined;
    try {
      scope = this.telemetry.attempt(event);
    } catch (err) {
      this.report("attempt", err, false);
      return undefined;
    }
    if (!this.#isScope(scope, "attempt")) return undefined;
    const end = this.#ender<AttemptOutcome>(scope, "attempt.end");
    const checked = scope;
    return { run: <T>(fn: () => T): T => this.#run(checked, fn), end };
  }

  /** {@link Telemetry.deadLetter}, guarded. */
  deadLetter(event: DeadLetterEvent): void {
    if (this.telemetry.deadLetter === undefined) return;
    try {
      this.#settle(this.telemetry.deadLetter(event), "deadLetter");
    } catch (err) {
      this.report("deadLetter", err, false);
    }
  }

  /** {@link Telemetry.dagSubmit}, guarded. */
  dagSubmit(event: DagSubmitEvent): DagSubmitScope | undefined {
    if (this.telemetry.dagSubmit === undefined) return undefined;
    let scope: DagSubmitScope | undefined;
    try {
      scope = this.telemetry.dagSubmit(event);
    } catch (err) {
      this.report("dagSubmit", err, false);
      return undefined;
    }
    if (!this.#isScope(scope, "dagSubmit")) return undefined;
    return { traceCtx: this.#carrier(scope, "dagSubmit"), end: this.#ender(scope, "dagSubmit.end") };
  }

  /** {@link Telemetry.schedulerEvent}, guarded. */
  schedulerEvent(event: SchedulerEvent): void {
    if (this.telemetry.schedulerEvent === undefined) return;
    try {
      this.#settle(this.telemetry.schedulerEvent(event), "schedulerEvent");
    } catch (err) {
      this.report("schedulerEvent", err, false);
    }
  }

  /** Catches what `result` rejects with when it is a promise (a hook written `async`), reporting it. */
  #settle(result: unknown, where: string): void {
    if (result === undefined || !isThenable(result)) return;
    Promise.resolve(result).then(undefined, (err: unknown) => this.report(where, err, true));
  }

  /**
   * Whether a hook's return is a scope to use. Nothing returned is no scope; a promise (an `async`
   * hook) is reported — its scope would come too late — and its rejection caught.
   */
  #isScope<S extends object>(scope: S | undefined | null, where: string): scope is S {
    if (scope === undefined || scope === null) return false;
    if (!isThenable(scope)) return true;
    this.report(where, new Error("returned a promise; a hook returns its scope synchronously (the scope is ignored)"), false);
    this.#settle(scope, where);
    return false;
  }

  /** A scope's trace context when it is a map of strings (it goes on the wire); else undefined, reported. */
  #carrier(scope: { readonly traceCtx?: TraceCarrier | undefined }, where: string): TraceCarrier | undefined {
    let ctx: unknown;
    try {
      ctx = scope.traceCtx;
    } catch (err) {
      this.report(`${where}.traceCtx`, err, false);
      return undefined;
    }
    if (ctx === undefined) return undefined;
    if (typeof ctx === "object" && ctx !== null && !Array.isArray(ctx) && Object.values(ctx).every((v) => typeof v === "string")) return ctx as TraceCarrier;
    this.report(`${where}.traceCtx`, new Error("traceCtx is not an object of string values"), false);
    return undefined;
  }

  /** A scope's `end`, called at most once and never throwing; a rejected promise it returns is reported. */
  #ender<A>(scope: { end(arg?: A): void }, where: string): (arg?: A) => void {
    let ended = false;
    return (arg?: A) => {
      if (ended) return;
      ended = true;
      try {
        this.#settle(scope.end(arg), where);
      } catch (err) {
        this.report(where, err, false);
      }
    };
  }

  /**
   * `scope.run(fn)`, so that `fn` runs exactly once whatever the observer does: a `run` that throws
   * before calling it, or returns without calling it, is reported and `fn` is called directly (a call
   * of it after that is refused, so a late `async` run cannot run the handler twice); a `run` that
   * throws after `fn` returned is reported and `fn`'s result returned; a `run` that returns a promise
   * of its own around `fn`'s result gives way to `fn`'s result, its own rejection reported (unless it
   * is `fn`'s). What `fn` itself throws is passed on, even when the observer's `run` swallowed it.
   */
  #run<T>(scope: AttemptScope, fn: () => T): T {
    let called = false;
    let abandoned = false;
    let threw = false;
    let value: T | undefined;
    let thrown: unknown;
    const inner = (): T => {
      if (abandoned) throw new Error("run called its function after returning; the handler already ran without this observer's context");
      if (called) {
        if (threw) throw thrown;
        return value as T;
      }
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
      this.report("attempt.run", err, false);
      if (!called) {
        abandoned = true;
        return fn();
      }
      if (threw) throw thrown;
      return value as T;
    }
    if (!called) {
      abandoned = true;
      this.report("attempt.run", new Error("run returned without calling the function it was given"), false);
      this.#settle(result, "attempt.run");
      return fn();
    }
    if (threw) {
      this.report("attempt.run", new Error("run returned normally although the function it was given threw; the function's error is passed on"), false);
      throw thrown;
    }
    if (result === value || !isThenable(result)) return result;
    this.#settleAround(result, value);
    return value as T;
  }

  /** Reports `wrapper`'s rejection unless it only passes on `own`'s (the handler's failure is not the observer's). */
  #settleAround(wrapper: PromiseLike<unknown>, own: unknown): void {
    Promise.resolve(wrapper).then(undefined, (err: unknown) => {
      if (!isThenable(own)) return this.report("attempt.run", err, true);
      Promise.resolve(own).then(
        () => this.report("attempt.run", err, true),
        (ownErr: unknown) => {
          if (ownErr !== err) this.report("attempt.run", err, true);
        },
      );
    });
  }
}
