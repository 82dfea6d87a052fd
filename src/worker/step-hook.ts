/**
 * The observer the workflow layer plugs into a worker (reference §1.3 `StepHook`): it may refuse to
 * start a step's handler (the step was canceled, paused or already settled elsewhere), may abort a
 * running one, and records each terminal outcome.
 * @module
 */
import type { Task } from "../task/envelope.js";
import type { TaskError } from "../task/errors.js";

/**
 * What {@link StepHook.onStepStart} decided. `run: false` means the task must not run: the worker
 * acks its message and records nothing (the step's record already says what became of it) — unless
 * `unknown` says the step has no record at all (its DAG does not exist, or was deleted): then nothing
 * else will ever account for the task, so the worker dead-letters it with its bytes.
 * `release` is called once the handler has returned, whatever its outcome.
 */
export type StepStart =
  | { readonly run: true; readonly release: () => void }
  | { readonly run: false; readonly reason: string; readonly unknown?: boolean | undefined };

/**
 * What became of an outcome handed to the hook: `recorded`, or `superseded` when the step already
 * had a terminal record (canceled while it ran, or settled by another attempt), or `unknown` when
 * the step has no record at all (its DAG does not exist, or was deleted). A superseded failure
 * writes no DLQ entry and no response: the step's record is its one outcome. An unknown one is
 * dead-lettered with its bytes: nothing else will account for it.
 */
export type StepSettled = "recorded" | "superseded" | "unknown";

/**
 * Called for tasks of workflow steps (tasks with a DAG id). The outcome methods run once per
 * terminal outcome, never for intermediate retries, BEFORE the response is sent and the delivery
 * settled. If a method rejects, the delivery is nak'ed with the retry delay and the task runs again
 * later, so the hook's effect is never lost (reference §3.2 steps 7–8).
 */
export interface StepHook {
  /**
   * Called before the handler runs, after the deadline check. `abort` aborts the handler's signal
   * with `reason` (its kind becomes the attempt's error kind), for as long as the handler runs.
   * Optional: without it every step task runs. A rejection naks the delivery for a later retry.
   */
  onStepStart?(task: Task, abort: (reason: TaskError) => void): Promise<StepStart>;
  /** The task succeeded with `result` (raw JSON, or undefined for a handler that returned nothing). */
  onStepDone(task: Task, result: string | undefined): Promise<StepSettled | void>;
  /** The task failed for good with `error`. */
  onStepFailed(task: Task, error: TaskError): Promise<StepSettled | void>;
}
