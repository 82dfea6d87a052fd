/**
 * The worker side of workflows: the step hook that persists a step's terminal outcome and announces
 * it (reference §3.26, §1.3 `StepHook`), and the middleware that gives a step's handler its DAG
 * context (`dagContext(ctx)`) and records which attempt a worker started.
 *
 * A step's outcome is persisted before the worker acks its task: result first (create-only, so a
 * duplicate run cannot replace what dependents used), then the status by compare-and-set, then the
 * `completed` event. An outcome for a step that is already terminal, or whose DAG was deleted,
 * changes nothing and is acked (reference §8.3 item 13, fixed).
 * @module
 */
import type { Task } from "../../task/envelope.js";
import type { TaskError } from "../../task/errors.js";
import type { StepHook } from "../../worker/step-hook.js";
import type { WorkflowCore } from "../store/core.js";
import { casStep } from "../store/cas.js";
import { publishEvent } from "../store/events.js";
import { isTerminal } from "../model/records.js";

/** Default cap of a stored step error message, in bytes (reference §1.7.9). */
export const DEFAULT_MAX_STEP_ERROR_BYTES = 4096;

/**
 * Cuts `message` to `limit` UTF-8 bytes on a character boundary and appends `…`; limit 0 means 4096,
 * a negative limit stores no message (reference §3.26).
 */
export function truncateErrorMessage(message: string, limit: number): string {
  if (limit < 0) return "";
  const max = limit === 0 ? DEFAULT_MAX_STEP_ERROR_BYTES : limit;
  const bytes = Buffer.from(message, "utf8");
  if (bytes.length <= max) return message;
  let cut = max;
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--; // back to a character boundary
  return bytes.subarray(0, cut).toString("utf8") + "…";
}

/** The workflow's {@link StepHook}; ad-hoc tasks (no DAG id) pass through untouched. */
export function createStepHook(core: WorkflowCore): StepHook {
  return {
    async onStepDone(task: Task, result: string | undefined): Promise<void> {
      const { dagId, stepId } = task;
      if (!dagId || !stepId) return;
      const before = await core.store.getStep(dagId, stepId);
      if (!before) {
        core.logger.warn("workflow: outcome for a step that does not exist (deleted DAG?); dropped", { dag_id: dagId, step_id: stepId });
        return;
      }
      if (isTerminal(before.value.status) && before.value.status !== "done") return;
      // A handler that returned nothing stores `null`, so the step can be awaited and referenced.
      await core.store.putResult(dagId, stepId, result ?? "null");
      const after = await casStep(
        core.store,
        dagId,
        stepId,
        before, // the record just read: no second read unless the CAS conflicts
        (r) => (isTerminal(r.status) ? "keep" : { ...r, status: "done", workerId: task.workerId, finishedAt: new Date(), errorKind: undefined, errorMessage: undefined }),
        { pauseMs: 50 },
      );
      if (after?.value.status !== "done") return;
      await publishEvent(core.broker, { kind: "completed", dagId, stepId, status: "done" });
    },

    async onStepFailed(task: Task, error: TaskError): Promise<void> {
      const { dagId, stepId } = task;
      if (!dagId || !stepId) return;
      const message = truncateErrorMessage(error.detail, core.maxStepErrorBytes);
      const written = await casStep(
        core.store,
        dagId,
        stepId,
        null,
        (r) =>
          isTerminal(r.status)
            ? "keep"
            : { ...r, status: "failed", errorKind: error.kind, errorMessage: message || undefined, workerId: task.workerId, finishedAt: new Date() },
        { pauseMs: 50 },
      );
      const after = written?.value;
      if (after === undefined) {
        core.logger.warn("workflow: failure of a step that does not exist (deleted DAG?); dropped", { dag_id: dagId, step_id: stepId });
        return;
      }
      if (after.status !== "failed" || after.errorKind !== error.kind) return;
      await publishEvent(core.broker, { kind: "completed", dagId, stepId, status: "failed", errorKind: error.kind, errorMessage: message || undefined });
    },
  };
}
