/**
 * The OpenTelemetry tracer of ebind: a {@link Telemetry} that turns publishes, attempts, dead
 * letters and DAG submits into spans (messaging semantic conventions, `attributes.ts`) and carries
 * their context in each task's `trace_ctx` (`propagation.ts`), so one task — enqueue, every attempt,
 * its dead letter, a requeue, the attempts after it — is one trace, and one DAG is one trace.
 *
 * Spans (kind, name, parent):
 * - enqueue: PRODUCER `publish <subject>`, child of the active context; with no active span, of the
 *   `traceCtx` given to `enqueueWith` (a trace begun elsewhere, e.g. by ebind for Go).
 * - attempt: CONSUMER `process <subject>`, child of the context the task carries: every attempt of
 *   a task is a child of its publish span. An attempt after the first also links to the first and
 *   to the previous attempt of the task when this process ran them (`ebind.link.kind`
 *   `first_attempt`, `previous_attempt`; a bounded map of the last `maxLinkedTasks` tasks).
 *   Error status with `error.type` = the error kind when it failed or is retried.
 * - dead letter: PRODUCER `publish DLQ.<name>`, child of the attempt that caused it (of the task's
 *   context for an entry written without one, such as a `max_deliver` or `decode` entry), error
 *   status with the error kind.
 * - requeue: PRODUCER `requeue <subject>`, child of the active context, else of the dead task's,
 *   so the whole story stays one trace; links to the dead task's context (`requeued_task`). The
 *   republished task carries the requeue span: the attempts after it are its children.
 * - DAG submit: PRODUCER `submit dag`, child of the active context; its context is stored in the
 *   DAG's meta and carried by every step's task, so each step's `process` span is a direct child
 *   of it. Starting a step adds a PRODUCER `publish <subject>` span under it too (when, and by
 *   which scheduler); the step's task keeps carrying the DAG's context.
 * Scheduler events make no span.
 * @module
 */
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import type { AttemptEvent, AttemptOutcome, AttemptScope, DagSubmitEvent, DagSubmitScope, DeadLetterEvent, PublishEvent, PublishScope, Telemetry, TraceCarrier } from "../../broker/index.js";
import type { Task } from "../../task/index.js";
import { EbindError } from "../../task/index.js";
import { ATTR } from "./attributes.js";
import { shown } from "../shown.js";
import { carriedSpanContext, extractCarrier, injectCarrier } from "./propagation.js";

/** Options of {@link openTelemetry}. */
export interface OpenTelemetryOptions {
  /**
   * Where the tracer comes from. @default the global tracer provider (`trace.getTracerProvider()`):
   * a provider registered after this call is still used (the API's proxy tracer follows it)
   */
  readonly tracerProvider?: TracerProvider | undefined;
  /** The tracer's (instrumentation scope's) name. @default "ebind" */
  readonly tracerName?: string | undefined;
  /**
   * How many tasks' attempt spans this process remembers, to link a retry to its earlier attempts;
   * the least recently used are forgotten first. An integer ≥ 0 (0: no attempt links). @default 1024
   */
  readonly maxLinkedTasks?: number | undefined;
}

/** Default of {@link OpenTelemetryOptions.maxLinkedTasks}. */
export const DEFAULT_MAX_LINKED_TASKS = 1024;

/**
 * A {@link Telemetry} that traces with OpenTelemetry. Give it as the `telemetry` option of clients,
 * workers, workflows and `requeueDeadLetter`. With no SDK registered every span is the API's no-op
 * one and no `trace_ctx` is added (a task keeps what its producer gave).
 * @param options see {@link OpenTelemetryOptions}; @default `{}` (every default).
 * @throws EbindError `invalid_argument` for options that are not an object ("otel options must be
 *   an object, got string"), a tracer provider without `getTracer`, an empty tracer name, or a bad
 *   `maxLinkedTasks`.
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Telemetry {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new EbindError("invalid_argument", `otel options must be an object, got ${options === null ? "null" : Array.isArray(options) ? "array" : typeof options}`);
  }
  const provider = options.tracerProvider;
  if (provider !== undefined && (typeof provider !== "object" || provider === null || typeof provider.getTracer !== "function")) {
    throw new EbindError("invalid_argument", "otel.tracerProvider must be a TracerProvider (an object with getTracer)");
  }
  const name = options.tracerName ?? "ebind";
  if (typeof name !== "string" || name.length === 0) throw new EbindError("invalid_argument", `otel.tracerName must be a non-empty string, got ${shown(name)}`);
  const maxLinked = options.maxLinkedTasks ?? DEFAULT_MAX_LINKED_TASKS;
  if (!Number.isSafeInteger(maxLinked) || maxLinked < 0) throw new EbindError("invalid_argument", `otel.maxLinkedTasks must be an integer ≥ 0, got ${shown(maxLinked)}`);
  const tracer = provider === undefined ? trace.getTracer(name) : provider.getTracer(name);
  return new OtelTelemetry(tracer, maxLinked);
}

/** The earlier attempts of a task this process ran. */
interface Attempts {
  readonly first: SpanContext;
  readonly last: SpanContext;
}

/** A context's span context when it is valid (a span is active, or a remote context was set). */
function activeSpanContext(ctx: Context): SpanContext | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** The attributes every span about `task` carries. */
function taskAttributes(task: Task, subject: string, operationType: string, operationName: string): Attributes {
  const attributes: Attributes = {
    [ATTR.system]: "nats",
    [ATTR.destination]: subject,
    [ATTR.operationType]: operationType,
    [ATTR.operationName]: operationName,
    [ATTR.messageId]: task.id,
    [ATTR.taskName]: task.name,
  };
  if (task.dagId) attributes[ATTR.dagId] = task.dagId;
  if (task.stepId) attributes[ATTR.stepId] = task.stepId;
  if (task.target) attributes[ATTR.target] = task.target;
  return attributes;
}

/** Ends `span`, with error status when `error` is given. */
function finish(span: Span, error?: Error): void {
  if (error !== undefined) {
    span.setAttribute(ATTR.errorType, error instanceof EbindError ? error.code : error.name || "Error");
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }
  span.end();
}

/**
 * The `trace_ctx` a task carries after a publish: the span's context, and whatever else the
 * producer's map held besides the propagator's own fields (`baggage`, say). Undefined when the
 * span has no valid context (no SDK): the task keeps what it had.
 */
function carrierFor(ctx: Context, given: TraceCarrier | undefined): TraceCarrier | undefined {
  const injected = injectCarrier(ctx);
  if (injected === undefined || given === undefined) return injected;
  const fields = new Set(["traceparent", "tracestate", ...propagation.fields()]);
  const kept = Object.fromEntries(Object.entries(given).filter(([key]) => !fields.has(key)));
  return { ...kept, ...injected };
}

class OtelTelemetry implements Telemetry {
  readonly #attempts = new Map<string, Attempts>();

  constructor(
    private readonly tracer: Tracer,
    private readonly maxLinked: number,
  ) {}

  publish(event: PublishEvent): PublishScope {
    const { task, subject, kind } = event;
    const active = context.active();
    const links: Link[] = [];
    let parent: Context;
    let carriesDag = false;
    switch (kind) {
      case "enqueue":
        parent = activeSpanContext(active) !== undefined ? active : extractCarrier(task.traceCtx, active);
        break;
      case "step": {
        // The DAG's span is the parent; the step's task keeps carrying it (see the module comment).
        const dag = carriedSpanContext(event.parent);
        carriesDag = dag !== undefined;
        parent = dag !== undefined ? trace.setSpanContext(ROOT_CONTEXT, dag) : active;
        break;
      }
      case "requeue": {
        const original = carriedSpanContext(event.parent);
        if (original !== undefined) links.push({ context: original, attributes: { [ATTR.linkKind]: "requeued_task" } });
        parent = activeSpanContext(active) !== undefined || original === undefined ? active : trace.setSpanContext(active, original);
        break;
      }
    }
    const operation = kind === "requeue" ? "requeue" : "publish";
    const attributes = taskAttributes(task, subject, "send", operation);
    attributes[ATTR.publishKind] = kind;
    const span = this.tracer.startSpan(`${operation} ${subject}`, { kind: SpanKind.PRODUCER, attributes, links }, parent);
    const traceCtx = carriesDag ? undefined : carrierFor(trace.setSpan(parent, span), task.traceCtx);
    return { traceCtx, end: (error) => finish(span, error) };
  }

  attempt(event: AttemptEvent): AttemptScope {
    const { task, subject } = event;
    const parent = extractCarrier(task.traceCtx, ROOT_CONTEXT);
    const links: Link[] = [];
    const earlier = task.attempt > 1 ? this.#attempts.get(task.id) : undefined;
    if (earlier !== undefined) {
      links.push({ context: earlier.first, attributes: { [ATTR.linkKind]: "first_attempt" } });
      if (earlier.last.spanId !== earlier.first.spanId) links.push({ context: earlier.last, attributes: { [ATTR.linkKind]: "previous_attempt" } });
    }
    const attributes = taskAttributes(task, subject, "process", "process");
    attributes[ATTR.consumerGroup] = event.durable;
    attributes[ATTR.clientId] = event.workerId;
    attributes[ATTR.taskAttempt] = task.attempt;
    attributes[ATTR.deliveryCount] = event.deliveryCount;
    attributes[ATTR.queueWaitMs] = event.queueWaitMs;
    const span = this.tracer.startSpan(`process ${subject}`, { kind: SpanKind.CONSUMER, attributes, links }, parent);
    if (span.isRecording() && this.maxLinked > 0) this.#remember(task, span.spanContext(), earlier);
    const inside = trace.setSpan(parent, span);
    return {
      run: (fn) => context.with(inside, fn),
      end: (outcome) => this.#endAttempt(span, task, outcome),
    };
  }

  deadLetter(event: DeadLetterEvent): void {
    const { task, error, subject } = event;
    const active = context.active();
    const parent = activeSpanContext(active) !== undefined ? active : extractCarrier(task?.traceCtx, ROOT_CONTEXT);
    const attributes: Attributes =
      task === undefined
        ? { [ATTR.system]: "nats", [ATTR.destination]: subject, [ATTR.operationType]: "send", [ATTR.operationName]: "publish" }
        : taskAttributes(task, subject, "send", "publish");
    attributes[ATTR.errorType] = error.kind;
    if (task !== undefined) attributes[ATTR.taskAttempt] = task.attempt;
    const span = this.tracer.startSpan(`publish ${subject}`, { kind: SpanKind.PRODUCER, attributes }, parent);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.detail });
    span.end();
  }

  dagSubmit(event: DagSubmitEvent): DagSubmitScope {
    const active = context.active();
    const attributes: Attributes = { [ATTR.system]: "nats", [ATTR.dagId]: event.dagId, [ATTR.dagSteps]: event.steps };
    if (event.labels.length > 0) attributes[ATTR.dagLabels] = [...event.labels];
    // The DAG's id is an attribute, not part of the name: span names stay few (semantic conventions).
    const span = this.tracer.startSpan("submit dag", { kind: SpanKind.PRODUCER, attributes }, active);
    return { traceCtx: injectCarrier(trace.setSpan(active, span)), end: (error) => finish(span, error) };
  }

  #endAttempt(span: Span, task: Task, outcome: AttemptOutcome): void {
    span.setAttribute(ATTR.outcome, outcome.result);
    switch (outcome.result) {
      case "succeeded":
        this.#attempts.delete(task.id);
        break;
      case "retried":
        span.setAttribute(ATTR.retryDelayMs, outcome.delayMs);
        span.setAttribute(ATTR.errorType, outcome.error.kind);
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.detail });
        break;
      case "failed":
        this.#attempts.delete(task.id);
        span.setAttribute(ATTR.errorType, outcome.error.kind);
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.detail });
        break;
      case "handed-back":
        break;
      default: {
        const unknown: never = outcome;
        void unknown;
      }
    }
    span.end();
  }

  /** Notes this attempt's span for the task's later attempts; the map keeps the most recent tasks. */
  #remember(task: Task, spanContext: SpanContext, earlier: Attempts | undefined): void {
    this.#attempts.delete(task.id);
    this.#attempts.set(task.id, { first: earlier?.first ?? spanContext, last: spanContext });
    if (this.#attempts.size > this.maxLinked) {
      const oldest = this.#attempts.keys().next().value;
      if (oldest !== undefined) this.#attempts.delete(oldest);
    }
  }
}
