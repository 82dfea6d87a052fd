/**
 * The skip cascade (reference §3.13 `cascadeSkipFrom`). Pure.
 * @module
 */
import { parseArgs } from "../model/codec.js";
import type { StepRecord } from "../model/records.js";
import { WorkflowError } from "../model/errors.js";
import { sortIds, type DagState } from "./state.js";

/**
 * Whether `step`'s arguments hold an `or_default` ref to `upstreamId`: such an edge substitutes the
 * default instead of cascading. Arguments that cannot be parsed hold no such ref.
 */
export function hasOrDefaultRef(step: StepRecord, upstreamId: string): boolean {
  let slots;
  try {
    slots = parseArgs(step.argsJson);
  } catch {
    return false;
  }
  return slots.some((s) => s.kind === "ref" && s.ref.mode === "or_default" && s.ref.stepId === upstreamId);
}

/**
 * The steps a failure, skip or cancel of `fromStepId` skips (reference §3.13), in breadth-first order,
 * without changing anything. From each step reached (starting at `fromStepId`, whose own status is not
 * looked at), every `pending` or `running` step listing it in its required `deps` is skipped — unless
 * its arguments hold an `or_default` ref to that exact step — and is walked further. Optional deps
 * never cascade; signal placeholders are never deps. Breakpoint and signal gates do not protect a
 * step. Dependents of one step are visited in id order.
 * @returns the ids to skip; `fromStepId` itself is never among them.
 * @throws {WorkflowError} `step_not_found` when `fromStepId` is not a step of the DAG.
 */
export function cascadeSkips(state: DagState, fromStepId: string): string[] {
  return cascadeSkipCauses(state, fromStepId).map((s) => s.stepId);
}

/** A step a cascade skips, and the dependency whose failure, skip or cancel skipped it. */
export interface CascadeSkip {
  readonly stepId: string;
  readonly cause: string;
}

/**
 * {@link cascadeSkips} with, for each skipped step, the dependency it was reached from (the
 * failed, skipped or canceled step that skips it).
 * @throws {WorkflowError} `step_not_found` when `fromStepId` is not a step of the DAG.
 */
export function cascadeSkipCauses(state: DagState, fromStepId: string): CascadeSkip[] {
  if (!state.steps.has(fromStepId)) {
    throw new WorkflowError("step_not_found", `workflow: step ${JSON.stringify(fromStepId)} not found in DAG ${state.meta.id}`);
  }
  const dependents = new Map<string, string[]>();
  for (const step of state.steps.values()) {
    if (step.status !== "pending" && step.status !== "running") continue;
    for (const dep of new Set(step.deps)) {
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [step.stepId]);
      else list.push(step.stepId);
    }
  }
  for (const list of dependents.values()) sortIds(list);
  const skipped: CascadeSkip[] = [];
  const seen = new Set<string>([fromStepId]);
  for (let i = -1; i < skipped.length; i++) {
    const current = i < 0 ? fromStepId : skipped[i]!.stepId;
    for (const id of dependents.get(current) ?? []) {
      if (seen.has(id)) continue;
      if (hasOrDefaultRef(state.steps.get(id) as StepRecord, current)) continue;
      seen.add(id);
      skipped.push({ stepId: id, cause: current });
    }
  }
  return skipped;
}

/**
 * The message a skipped step records: which dependency skipped it and how that one ended, e.g.
 * `skipped: dependency "a" failed (boom: kaboom)`. The error kind of a cascade skip stays empty
 * (reference §3.27 shows such steps as `(cascade)`).
 * @param dep the dependency's record as it ended (failed, skipped or canceled).
 */
export function skipMessage(dep: StepRecord | undefined, depId: string): string {
  const quoted = JSON.stringify(depId);
  switch (dep?.status) {
    case "failed": {
      const why = [dep.errorKind, dep.errorMessage].filter((s) => s).join(": ");
      return `skipped: dependency ${quoted} failed${why ? ` (${why})` : ""}`;
    }
    case "skipped":
      return `skipped: dependency ${quoted} was skipped`;
    case "canceled":
      return `skipped: dependency ${quoted} was canceled`;
    default:
      return `skipped: dependency ${quoted} did not succeed`;
  }
}
