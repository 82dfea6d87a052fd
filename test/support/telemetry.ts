/**
 * A {@link Telemetry} that records every hook call as a plain object, in order, for the wiring
 * tests. Each publish and DAG submit returns a trace context of its own (`tp-<n>`), so tests can
 * follow which context reached which task. `run` enters an AsyncLocalStorage scope naming the
 * attempt, so a test can tell what ran inside it (the handler, a dead letter).
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AttemptOutcome, Telemetry, TraceCarrier } from "../../src/broker/index.js";

/** One recorded call. */
export type Recorded =
  | { hook: "publish"; kind: string; taskId: string; name: string; subject: string; parent: TraceCarrier | undefined; taskTraceCtx: TraceCarrier | undefined; returned: TraceCarrier }
  | { hook: "publish.end"; taskId: string; error: string | undefined }
  | { hook: "attempt"; taskId: string; attempt: number; deliveryCount: number; subject: string; durable: string; workerId: string; queueWaitMs: number; traceCtx: TraceCarrier | undefined }
  | { hook: "attempt.run"; taskId: string; attempt: number }
  | { hook: "attempt.end"; taskId: string; attempt: number; outcome: AttemptOutcome }
  | { hook: "deadLetter"; taskId: string | undefined; attempt: number | undefined; errorKind: string; subject: string; insideAttempt: string | undefined }
  | { hook: "dagSubmit"; dagId: string; steps: number; labels: readonly string[]; returned: TraceCarrier }
  | { hook: "dagSubmit.end"; dagId: string; error: string | undefined }
  | { hook: "schedulerEvent"; dagId: string; kind: string; lagMs: number };

/** A recording telemetry and what it saw. */
export interface RecordingTelemetry {
  readonly telemetry: Telemetry;
  readonly calls: Recorded[];
  /** The attempt `run` scope the caller is inside (`<task id>#<attempt>`), or undefined. */
  inside(): string | undefined;
  /** The calls of one hook. */
  of<H extends Recorded["hook"]>(hook: H): Array<Extract<Recorded, { hook: H }>>;
  /** The calls about one task id, in order. */
  about(taskId: string): Recorded[];
}

/** A fresh {@link RecordingTelemetry}. */
export function recordingTelemetry(): RecordingTelemetry {
  const calls: Recorded[] = [];
  const scope = new AsyncLocalStorage<string>();
  let n = 0;
  const telemetry: Telemetry = {
    publish(event) {
      const returned = { traceparent: `tp-${++n}` };
      const taskId = event.task.id;
      calls.push({ hook: "publish", kind: event.kind, taskId, name: event.task.name, subject: event.subject, parent: event.parent, taskTraceCtx: event.task.traceCtx, returned });
      return { traceCtx: returned, end: (error) => calls.push({ hook: "publish.end", taskId, error: error?.message }) };
    },
    attempt(event) {
      const { task } = event;
      calls.push({
        hook: "attempt",
        taskId: task.id,
        attempt: task.attempt,
        deliveryCount: event.deliveryCount,
        subject: event.subject,
        durable: event.durable,
        workerId: event.workerId,
        queueWaitMs: event.queueWaitMs,
        traceCtx: task.traceCtx,
      });
      return {
        run: (fn) => {
          calls.push({ hook: "attempt.run", taskId: task.id, attempt: task.attempt });
          return scope.run(`${task.id}#${task.attempt}`, fn);
        },
        end: (outcome) => calls.push({ hook: "attempt.end", taskId: task.id, attempt: task.attempt, outcome }),
      };
    },
    deadLetter(event) {
      calls.push({ hook: "deadLetter", taskId: event.task?.id, attempt: event.task?.attempt, errorKind: event.error.kind, subject: event.subject, insideAttempt: scope.getStore() });
    },
    dagSubmit(event) {
      const returned = { traceparent: `tp-${++n}` };
      calls.push({ hook: "dagSubmit", dagId: event.dagId, steps: event.steps, labels: event.labels, returned });
      return { traceCtx: returned, end: (error) => calls.push({ hook: "dagSubmit.end", dagId: event.dagId, error: error?.message }) };
    },
    schedulerEvent(event) {
      calls.push({ hook: "schedulerEvent", ...event });
    },
  };
  return {
    telemetry,
    calls,
    inside: () => scope.getStore(),
    of: <H extends Recorded["hook"]>(hook: H) => calls.filter((c): c is Extract<Recorded, { hook: H }> => c.hook === hook),
    about: (taskId) => calls.filter((c) => "taskId" in c && c.taskId === taskId),
  };
}
