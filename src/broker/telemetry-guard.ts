/**
 * Calling {@link Telemetry} hooks so that an observer can never break a task, nor another observer:
 * each observer (each one `combineTelemetry` was given) is called and guarded on its own
 * (`telemetry-observer.ts`) — what it throws, or what an `async` hook of it rejects with, is caught —
 * the first failure of each hook of each observer logged once at warn, and the task and the other
 * observers go on as if that observer were not set. A component resolves its `telemetry` option
 * once with {@link safeTelemetry}; given none, it holds `undefined` and calls nothing (no
 * allocation, no check beyond that one).
 * @module
 */
import type { Logger } from "./logger.js";
import { checkTelemetry, telemetryParts } from "./telemetry.js";
import type {
  AttemptEvent,
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
import { ObserverGuard } from "./telemetry-observer.js";

export type { HookName } from "./telemetry.js";

/**
 * Checks a `telemetry` option and wraps it for safe calls; undefined stays undefined.
 * @param telemetry the option as given: one observer, or what `combineTelemetry` made of several.
 * @param logger where a failing hook is reported (once per hook and observer).
 * @param path the option's name in messages, e.g. `"worker.telemetry"`.
 * @throws EbindError `invalid_argument` when it is not an object, one of its hooks is present but
 *   not a function (naming it, e.g. "worker.telemetry.attempt must be a function, got string"), or
 *   it has none of the hooks (e.g. the object `prometheusMetrics()` returns instead of its `.telemetry`).
 */
export function safeTelemetry(telemetry: Telemetry | undefined, logger: Logger, path: string): SafeTelemetry | undefined {
  if (telemetry === undefined) return undefined;
  checkTelemetry(telemetry, path);
  return new SafeTelemetry(telemetryParts(telemetry), logger, path);
}

/** The trace context of several observers' scopes: the last one given. */
function lastTraceCtx(scopes: ReadonlyArray<{ readonly traceCtx?: TraceCarrier | undefined }>): TraceCarrier | undefined {
  return scopes.reduce<TraceCarrier | undefined>((ctx, s) => s.traceCtx ?? ctx, undefined);
}

/** One `end` ending each of several observers' scopes (guarded: none throws, each ends once). */
function endAll<A>(scopes: ReadonlyArray<{ end(arg: A): void }>): (arg: A) => void {
  return (arg) => scopes.forEach((s) => s.end(arg));
}

/** A {@link Telemetry} whose calls never throw, each observer called apart; scopes come back guarded the same way. */
export class SafeTelemetry {
  readonly #warned = new Set<string>();
  readonly #observers: readonly ObserverGuard[];
  /** The one observer, when there is only one: calls go straight to it (nothing to join). */
  readonly #single: ObserverGuard | undefined;

  /**
   * @param parts the observers, each called and guarded apart (at least one).
   * @param logger where failures go.
   * @param path the option's name in messages.
   */
  constructor(
    parts: readonly Telemetry[],
    private readonly logger: Logger,
    private readonly path: string,
  ) {
    const numbered = parts.length > 1;
    this.#observers = parts.map((part, i) => new ObserverGuard(part, (where, err, rejected) => this.#warn(where, err, rejected, numbered ? i + 1 : undefined)));
    this.#single = this.#observers.length === 1 ? this.#observers[0] : undefined;
  }

  /** Reports a hook's failure, once per hook (`where`) and observer for this component. */
  #warn(where: string, err: unknown, rejected: boolean, observer: number | undefined): void {
    const key = observer === undefined ? where : `${observer}:${where}`;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    const fields = { hook: where, error: err instanceof Error ? err.message : String(err), ...(observer === undefined ? {} : { observer }) };
    // Observers are numbered from 1 in the order combineTelemetry calls them (undefined arguments skipped, nested combinations flattened).
    const which = observer === undefined ? "" : ` of observer ${observer}`;
    this.logger.warn(fields, `${this.path}: the telemetry hook ${where}${which} ${rejected ? "rejected" : "threw"}; ignored (further failures of it are not logged)`);
  }

  /** {@link Telemetry.publish}, safe: undefined when no observer gave a scope. */
  publish(event: PublishEvent): PublishScope | undefined {
    if (this.#single !== undefined) return this.#single.publish(event);
    const scopes = this.#collect((o) => o.publish(event));
    return scopes.length <= 1 ? scopes[0] : { traceCtx: lastTraceCtx(scopes), end: endAll(scopes) };
  }

  /** {@link Telemetry.attempt}, safe; its `run` always runs `fn` exactly once. */
  attempt(event: AttemptEvent): AttemptScope | undefined {
    if (this.#single !== undefined) return this.#single.attempt(event);
    const scopes = this.#collect((o) => o.attempt(event));
    if (scopes.length <= 1) return scopes[0];
    // Each guarded run runs its function exactly once, so the nest runs fn exactly once.
    return {
      run: <T>(fn: () => T): T => scopes.reduceRight<() => T>((inner, s) => () => s.run(inner), fn)(),
      end: endAll(scopes),
    };
  }

  /** {@link Telemetry.deadLetter}, safe. */
  deadLetter(event: DeadLetterEvent): void {
    for (const o of this.#observers) o.deadLetter(event);
  }

  /** {@link Telemetry.dagSubmit}, safe. */
  dagSubmit(event: DagSubmitEvent): DagSubmitScope | undefined {
    if (this.#single !== undefined) return this.#single.dagSubmit(event);
    const scopes = this.#collect((o) => o.dagSubmit(event));
    return scopes.length <= 1 ? scopes[0] : { traceCtx: lastTraceCtx(scopes), end: endAll(scopes) };
  }

  /** {@link Telemetry.schedulerEvent}, safe. */
  schedulerEvent(event: SchedulerEvent): void {
    for (const o of this.#observers) o.schedulerEvent(event);
  }

  /** The scopes the observers gave, in order. */
  #collect<S>(open: (o: ObserverGuard) => S | undefined): S[] {
    const scopes: S[] = [];
    for (const o of this.#observers) {
      const scope = open(o);
      if (scope !== undefined) scopes.push(scope);
    }
    return scopes;
  }
}
