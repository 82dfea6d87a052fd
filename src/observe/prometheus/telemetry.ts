/**
 * The {@link Telemetry} of `ebind/prometheus`: counts publishes, attempts and their outcomes, dead
 * letters, DAG submits, and observes handler time, queue wait and scheduler lag. Runs on every
 * task's path, so it does no label lookup per task: each task name's label children (and each
 * error kind's under it) are resolved once and kept — both sets are bounded by the application.
 * @module
 */
import type { Counter, Histogram } from "prom-client";
import type { AttemptEvent, AttemptOutcome, AttemptScope, DagSubmitScope, DeadLetterEvent, PublishEvent, PublishScope, SchedulerEvent, Telemetry } from "../../broker/index.js";
import type { Instruments } from "./instruments.js";

type CounterChild = Counter.Internal;
type HistogramChild = Histogram.Internal<string>;

/** The label children of one error kind under one task name. */
interface KindSeries {
  readonly failed: CounterChild;
  readonly retried: CounterChild;
  readonly deadLettered: CounterChild;
}

/** The label children of one task name. */
class TaskSeries {
  readonly started: CounterChild;
  readonly succeeded: CounterChild;
  readonly handedBack: CounterChild;
  readonly queueWait: HistogramChild;
  readonly duration: Readonly<Record<AttemptOutcome["result"], HistogramChild>>;
  readonly #kinds = new Map<string, KindSeries>();
  readonly #publishes = new Map<string, { readonly stored: CounterChild; readonly failed: CounterChild }>();

  constructor(
    private readonly m: Instruments,
    private readonly task: string,
  ) {
    this.started = m.started.labels(task);
    this.succeeded = m.succeeded.labels(task);
    this.handedBack = m.handedBack.labels(task);
    this.queueWait = m.queueWait.labels(task);
    this.duration = {
      succeeded: m.handlerDuration.labels(task, "succeeded"),
      retried: m.handlerDuration.labels(task, "retried"),
      failed: m.handlerDuration.labels(task, "failed"),
      "handed-back": m.handlerDuration.labels(task, "handed-back"),
    };
  }

  kind(kind: string): KindSeries {
    let k = this.#kinds.get(kind);
    if (k === undefined) {
      k = { failed: this.m.failed.labels(this.task, kind), retried: this.m.retried.labels(this.task, kind), deadLettered: this.m.deadLettered.labels(this.task, kind) };
      this.#kinds.set(kind, k);
    }
    return k;
  }

  publish(why: string): { readonly stored: CounterChild; readonly failed: CounterChild } {
    let s = this.#publishes.get(why);
    if (s === undefined) {
      s = { stored: this.m.enqueued.labels(this.task, why), failed: this.m.publishFailed.labels(this.task, why) };
      this.#publishes.set(why, s);
    }
    return s;
  }
}

/** An attempt being timed: its scope. One small object per attempt. */
class AttemptMetrics implements AttemptScope {
  constructor(private readonly series: TaskSeries) {}

  run<T>(fn: () => T): T {
    return fn();
  }

  end(outcome: AttemptOutcome): void {
    const s = this.series;
    s.duration[outcome.result].observe(outcome.durationMs / 1000);
    switch (outcome.result) {
      case "succeeded":
        s.succeeded.inc();
        return;
      case "retried":
        s.kind(outcome.error.kind).retried.inc();
        return;
      case "failed":
        s.kind(outcome.error.kind).failed.inc();
        return;
      case "handed-back":
        s.handedBack.inc();
        return;
    }
  }
}

/** A publish being counted: its scope. */
class PublishMetrics implements PublishScope {
  readonly traceCtx = undefined;
  constructor(private readonly counters: { readonly stored: CounterChild; readonly failed: CounterChild }) {}

  end(error?: Error): void {
    if (error === undefined) this.counters.stored.inc();
    else this.counters.failed.inc();
  }
}

/** The task name a dead letter's subject (`DLQ.<name>`) names, for an entry whose envelope could not be decoded. */
function nameOfDlqSubject(subject: string): string {
  return subject.startsWith("DLQ.") ? subject.slice(4) : subject;
}

/** Builds the Telemetry feeding `m`. */
export function metricsTelemetry(m: Instruments): Telemetry {
  const tasks = new Map<string, TaskSeries>();
  const lags = new Map<string, HistogramChild>();
  const series = (name: string): TaskSeries => {
    let s = tasks.get(name);
    if (s === undefined) {
      s = new TaskSeries(m, name);
      tasks.set(name, s);
    }
    return s;
  };
  const dagSubmitted: DagSubmitScope = {
    traceCtx: undefined,
    end: (error) => {
      if (error === undefined) m.dagsSubmitted.inc();
    },
  };
  return {
    publish(event: PublishEvent): PublishScope {
      return new PublishMetrics(series(event.task.name).publish(event.kind));
    },
    attempt(event: AttemptEvent): AttemptScope {
      const s = series(event.task.name);
      s.started.inc();
      s.queueWait.observe(Math.max(0, event.queueWaitMs) / 1000);
      return new AttemptMetrics(s);
    },
    deadLetter(event: DeadLetterEvent): void {
      series(event.task?.name ?? nameOfDlqSubject(event.subject)).kind(event.error.kind).deadLettered.inc();
    },
    dagSubmit(): DagSubmitScope {
      return dagSubmitted;
    },
    schedulerEvent(event: SchedulerEvent): void {
      let lag = lags.get(event.kind);
      if (lag === undefined) {
        lag = m.schedulerLag.labels(event.kind);
        lags.set(event.kind, lag);
      }
      lag.observe(Math.max(0, event.lagMs) / 1000);
    },
  };
}
