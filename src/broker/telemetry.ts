/**
 * Telemetry hooks: the points where the engine tells an observer what happens to a task or a DAG —
 * a publish, each attempt and its outcome, a dead letter, a DAG's submit, a scheduler event. The
 * OpenTelemetry tracer (`ebind/otel`) and the Prometheus metrics (`ebind/prometheus`) are two
 * implementations; {@link combineTelemetry} runs several. Nothing here does I/O: a component given no
 * telemetry calls nothing at all, so an unobserved deployment pays nothing.
 *
 * Every hook is optional and must not throw (a throwing hook is caught and logged by the caller, and
 * the task goes on as if no telemetry were set).
 * @module
 */
import type { Task } from "../task/envelope.js";
import type { TaskError } from "../task/errors.js";

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

/**
 * One telemetry that calls each of `observers` in order. A scope's `traceCtx` is the last one given;
 * `run` nests the observers' contexts, the first outermost.
 * @param observers telemetries; undefined entries are skipped. With none, returns undefined.
 */
export function combineTelemetry(...observers: ReadonlyArray<Telemetry | undefined>): Telemetry | undefined {
  const all = observers.filter((o): o is Telemetry => o !== undefined);
  if (all.length <= 1) return all[0];
  return {
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
}
