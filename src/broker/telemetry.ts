/**
 * Telemetry hooks: the points where the engine tells an observer what happens to a task or a DAG —
 * a publish, each attempt and its outcome, a dead letter, a DAG's submit, a scheduler event. The
 * OpenTelemetry tracer (`ebind/otel`) and the Prometheus metrics (`ebind/prometheus`) are two
 * implementations; {@link combineTelemetry} runs several. Nothing here does I/O: a component given no
 * telemetry calls nothing at all, so an unobserved deployment pays nothing.
 *
 * Every hook is optional, synchronous and must not throw (a throwing hook — or a rejecting promise
 * an `async` one returns — is caught and logged by the caller, and the task goes on as if that
 * observer were not set).
 * @module
 */
import type { Task } from "../task/envelope.js";
import { EbindError, type TaskError } from "../task/errors.js";

/** W3C trace context as it travels in a task's `trace_ctx` (reference §2.6.1): `traceparent`, `tracestate`. */
export type TraceCarrier = Readonly<Record<string, string>>;

/** Why a task is published. */
export type PublishKind =
  /** A producer's enqueue (client). */
  | "enqueue"
  /** A scheduler starting a DAG's step. */
  | "step"
  /** An operator's requeue of a dead letter (dlq). */
  | "requeue";

/** A task about to be published. */
export interface PublishEvent {
  readonly kind: PublishKind;
  /** The task as built, its `traceCtx` still the caller's (or, for a requeue, the dead task's). */
  readonly task: Task;
  /** The subject it is published on (`TASKS.<name>` or `TASKS_TARGET.<target>.<name>`). */
  readonly subject: string;
  /**
   * The trace this publish belongs to, when the engine knows one: a step's DAG's (its `trace_ctx` in
   * the DAG's meta), a requeued task's original. Undefined for an enqueue (the caller's active
   * context and `task.traceCtx` decide).
   */
  readonly parent?: TraceCarrier | undefined;
}

/** What an observer makes of a publish. */
export interface PublishScope {
  /** The trace context the published task carries instead of `task.traceCtx`; undefined keeps it. */
  readonly traceCtx?: TraceCarrier | undefined;
  /** The publish ended: stored (no error) or refused. Called once. */
  end(error?: Error): void;
}

/** A delivery about to run its handler: an attempt. */
export interface AttemptEvent {
  /** The task, with `attempt` = this attempt's number (1 = first), counted by the worker. */
  readonly task: Task;
  /** The subject the delivery came on. */
  readonly subject: string;
  /** The durable consumer it came from. */
  readonly durable: string;
  readonly workerId: string;
  /** The server's delivery count of this message (1 = first delivery). */
  readonly deliveryCount: number;
  /** Milliseconds from the task's `enqueued_at` to this start (queue wait; retries include their backoff). */
  readonly queueWaitMs: number;
}

/** How an attempt ended. */
export type AttemptOutcome =
  /** The handler returned and its response was stored (or none was asked for). */
  | { readonly result: "succeeded"; readonly durationMs: number }
  /**
   * The task will be delivered again after `delayMs`: the handler failed and the retry policy
   * allows another attempt, or the attempt's outcome could not be recorded (the server unreachable;
   * `error` is then the handler's failure, or kind `record_failed` after a success).
   */
  | { readonly result: "retried"; readonly durationMs: number; readonly error: TaskError; readonly delayMs: number }
  /** The handler failed for good: the failure is answered and, unless told otherwise, dead-lettered. */
  | { readonly result: "failed"; readonly durationMs: number; readonly error: TaskError }
  /** Shutdown handed the delivery back before its outcome was recorded; it runs again elsewhere. */
  | { readonly result: "handed-back"; readonly durationMs: number };

/** What an observer makes of an attempt. */
export interface AttemptScope {
  /**
   * Runs `fn` inside the attempt's context and returns what `fn` returns. The worker calls it around
   * the handler chain (middleware included), and a second time around the recording of a terminal
   * failure, so that a dead letter the attempt causes is reported inside the attempt's context: make
   * it a pure context switch (no counting, no timing).
   */
  run<T>(fn: () => T): T;
  /** The attempt ended. Called once, after `run`'s promise settled and the outcome was decided. */
  end(outcome: AttemptOutcome): void;
}

/** A task was written to the dead-letter queue. */
export interface DeadLetterEvent {
  /** The task, or undefined when its envelope could not be decoded. */
  readonly task: Task | undefined;
  /** The failure recorded: its kind is the error kind of the entry (`decode` for an undecodable one). */
  readonly error: TaskError;
  /** The dead-letter subject (`DLQ.<name>`). */
  readonly subject: string;
}

/** A DAG about to be submitted. */
export interface DagSubmitEvent {
  readonly dagId: string;
  readonly steps: number;
  readonly labels: readonly string[];
}

/** What an observer makes of a DAG's submit. */
export interface DagSubmitScope {
  /** The trace context stored in the DAG's meta (`trace_ctx`), parent of every step's task. */
  readonly traceCtx?: TraceCarrier | undefined;
  /** The submit ended (its records written, or refused). Called once. */
  end(error?: Error): void;
}

/** A scheduler took a DAG event. */
export interface SchedulerEvent {
  readonly dagId: string;
  /** The event kind (`submitted`, `completed`, `failed`, …; reference §2.6.9). */
  readonly kind: string;
  /** Milliseconds from the event's publish (its stream timestamp) to this scheduler taking it. */
  readonly lagMs: number;
}

/**
 * An observer of tasks and DAGs. Pass one as the `telemetry` option of a client, worker, workflow
 * or dead-letter call; every hook is optional.
 */
export interface Telemetry {
  /** A task is about to be published (enqueue, step start, requeue). */
  publish?(event: PublishEvent): PublishScope | undefined;
  /** A delivery is about to run its handler. */
  attempt?(event: AttemptEvent): AttemptScope | undefined;
  /** A task was dead-lettered. Called inside the attempt's `run` context when an attempt caused it. */
  deadLetter?(event: DeadLetterEvent): void;
  /** A DAG is about to be submitted. */
  dagSubmit?(event: DagSubmitEvent): DagSubmitScope | undefined;
  /** A scheduler took a DAG event. */
  schedulerEvent?(event: SchedulerEvent): void;
}

/** The hooks of {@link Telemetry}, by name. */
export type HookName = "publish" | "attempt" | "deadLetter" | "dagSubmit" | "schedulerEvent";

/** Every hook of {@link Telemetry}, in the order messages list them. */
export const TELEMETRY_HOOKS: readonly HookName[] = ["publish", "attempt", "deadLetter", "dagSubmit", "schedulerEvent"];

/**
 * Checks that `value` is a {@link Telemetry}: an object (a class instance's inherited methods count)
 * whose hooks present are functions, with at least one of them.
 * @param path how messages name it, e.g. `"worker.telemetry"` or `"combineTelemetry argument 2"`.
 * @throws EbindError `invalid_argument` when it is not an object ("… must be an object of hooks
 *   (…), got string"), a hook is present but not a function ("….attempt must be a function, got
 *   number"), or it has none of the hooks — such as the object `prometheusMetrics()` returns, whose
 *   `.telemetry` is the one to pass.
 */
export function checkTelemetry(value: unknown, path: string): asserts value is Telemetry {
  if (typeof value !== "object" || value === null) {
    throw new EbindError("invalid_argument", `${path} must be an object of hooks (${TELEMETRY_HOOKS.join(", ")}), got ${value === null ? "null" : typeof value}`);
  }
  let hooks = 0;
  for (const hook of TELEMETRY_HOOKS) {
    const fn = (value as Readonly<Record<string, unknown>>)[hook];
    if (fn === undefined) continue;
    if (typeof fn !== "function") throw new EbindError("invalid_argument", `${path}.${hook} must be a function, got ${fn === null ? "null" : typeof fn}`);
    hooks++;
  }
  if (hooks === 0) {
    throw new EbindError("invalid_argument", `${path} has none of the hooks ${TELEMETRY_HOOKS.join(", ")}; for prometheusMetrics() pass its .telemetry`);
  }
}

/** The observers of each telemetry {@link combineTelemetry} made, so that a guard can call each apart. */
const combinedParts = new WeakMap<Telemetry, readonly Telemetry[]>();

/**
 * The observers a telemetry stands for: those `combineTelemetry` was given (flattened), or the
 * telemetry itself. ebind's guard (`safeTelemetry`) calls each of them separately, so that one
 * throwing never costs another its calls.
 */
export function telemetryParts(telemetry: Telemetry): readonly Telemetry[] {
  return combinedParts.get(telemetry) ?? [telemetry];
}

/**
 * One telemetry that stands for each of `observers` in order. A scope's `traceCtx` is the last one
 * given; `run` nests the observers' contexts, the first outermost.
 *
 * Given to ebind (a client, worker, workflow or requeue), each observer is called and guarded on its
 * own: one that throws, or whose `async` hook rejects, is logged once per hook and never costs the
 * others a call or a scope. Calling the returned hooks directly (outside ebind) calls the observers
 * one after the other with no such isolation: a throw stops the call.
 * @param observers telemetries; undefined entries are skipped. With none left, returns undefined;
 *   with one, returns it. Combined telemetries given are flattened into their observers.
 * @throws EbindError `invalid_argument` naming the argument's position (1-based) when one is not
 *   undefined and not a {@link Telemetry}: not an object, a hook that is not a function, or none of
 *   the hooks (e.g. "combineTelemetry argument 2 has none of the hooks …").
 */
export function combineTelemetry(...observers: ReadonlyArray<Telemetry | undefined>): Telemetry | undefined {
  const given: Telemetry[] = [];
  observers.forEach((o, i) => {
    if (o === undefined) return;
    checkTelemetry(o, `combineTelemetry argument ${i + 1}`);
    given.push(o);
  });
  if (given.length <= 1) return given[0];
  const all = given.flatMap(telemetryParts);
  const combined: Telemetry = {
    publish(event) {
      const scopes = all.map((o) => o.publish?.(event)).filter((s): s is PublishScope => s !== undefined);
      if (scopes.length === 0) return undefined;
      return {
        traceCtx: scopes.reduce<TraceCarrier | undefined>((ctx, s) => s.traceCtx ?? ctx, undefined),
        end: (error) => scopes.forEach((s) => s.end(error)),
      };
    },
    attempt(event) {
      const scopes = all.map((o) => o.attempt?.(event)).filter((s): s is AttemptScope => s !== undefined);
      if (scopes.length === 0) return undefined;
      return {
        run: <T>(fn: () => T): T => scopes.reduceRight<() => T>((inner, s) => () => s.run(inner), fn)(),
        end: (outcome) => scopes.forEach((s) => s.end(outcome)),
      };
    },
    deadLetter: (event) => all.forEach((o) => o.deadLetter?.(event)),
    dagSubmit(event) {
      const scopes = all.map((o) => o.dagSubmit?.(event)).filter((s): s is DagSubmitScope => s !== undefined);
      if (scopes.length === 0) return undefined;
      return {
        traceCtx: scopes.reduce<TraceCarrier | undefined>((ctx, s) => s.traceCtx ?? ctx, undefined),
        end: (error) => scopes.forEach((s) => s.end(error)),
      };
    },
    schedulerEvent: (event) => all.forEach((o) => o.schedulerEvent?.(event)),
  };
  combinedParts.set(combined, all);
  return combined;
}
