/**
 * The terminal-outcome observer the workflow layer plugs into a worker (reference §1.3 `StepHook`).
 * @module
 */
import type { Task } from "../task/envelope.js";
import type { TaskError } from "../task/errors.js";

/**
 * Called once per terminal outcome, never for intermediate retries, BEFORE the response is sent and
 * the delivery settled. If a method rejects, the delivery is nak'ed with the retry delay and the
 * task runs again later, so the hook's effect is never lost (reference §3.2 steps 7–8).
 */
export interface StepHook {
  /** The task succeeded with `result` (raw JSON, or undefined for a handler that returned nothing). */
  onStepDone(task: Task, result: string | undefined): Promise<void>;
  /** The task failed for good with `error`. */
  onStepFailed(task: Task, error: TaskError): Promise<void>;
}
