/**
 * Reopening a failed step for a DLQ requeue (issue 12): which skipped steps go back to pending with
 * it. Pure.
 * @module
 */
import { WorkflowError } from "../model/errors.js";
import { hasOrDefaultRef } from "./cascade.js";
import type { DagState } from "./state.js";

/**
 * The skipped steps that become pending again when failed step `stepId` is reopened: the cascade
 * of its failure undone, and only that. A skipped step is reopened when one of its required
 * dependencies is reopened (read without `or_default`) and none of the others failed, was skipped
 * (and stays so) or was canceled; it is walked further. Steps that ran with an `or_default` value
 * are done and stay done.
 * @returns the ids to reopen, in the order reached; `stepId` itself is not among them.
 * @throws {WorkflowError} `step_not_found` when `stepId` is not a step of the DAG.
 */
export function reopenedWith(state: DagState, stepId: string): string[] {
  if (!state.steps.has(stepId)) {
    throw new WorkflowError("step_not_found", `workflow: step ${JSON.stringify(stepId)} not found in DAG ${state.meta.id}`);
  }
  const reopened = new Set<string>([stepId]);
  const order: string[] = [];
  const blocks = (dep: string, stepIdOf: string): boolean => {
    if (reopened.has(dep)) return false;
    const status = state.steps.get(dep)?.status;
    const step = state.steps.get(stepIdOf)!;
    return (status === "failed" || status === "skipped" || status === "canceled") && !hasOrDefaultRef(step, dep);
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const step of state.steps.values()) {
      if (step.status !== "skipped" || reopened.has(step.stepId)) continue;
      const viaReopened = step.deps.some((dep) => reopened.has(dep) && !hasOrDefaultRef(step, dep));
      if (!viaReopened || step.deps.some((dep) => blocks(dep, step.stepId))) continue;
      reopened.add(step.stepId);
      order.push(step.stepId);
      changed = true;
    }
  }
  return order;
}
