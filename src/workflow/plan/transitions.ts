/**
 * State transitions of steps (reference §3.13 `MarkDone`/`MarkFailed`/`MarkSkipped`/`AddStep`). Pure:
 * each returns a new {@link DagState}.
 * @module
 */
import { WorkflowError } from "../model/errors.js";
import { finishTime, isTerminal, type StepRecord } from "../model/records.js";
import { cascadeSkips } from "./cascade.js";
import type { DagState } from "./state.js";

/** A step's terminal outcome as reported by a worker (or decided by the scheduler). */
export type StepOutcome =
  | { readonly status: "done" }
  | { readonly status: "failed"; readonly errorKind: string; readonly errorMessage: string }
  | { readonly status: "skipped" };

/** The result of {@link applyCompletion}: the new state and the ids of the records that changed. */
export interface CompletionResult {
  readonly state: DagState;
  /** The step itself when its record changed, then the cascade-skipped steps in breadth-first order. */
  readonly changed: string[];
}

/**
 * Applies a step's outcome (reference §3.13):
 * - `done` (MarkDone): a non-terminal step becomes done with `finishedAt = at` (or its `startedAt`
 *   when that is later: another machine's clock, see `StepRecord.finishedAt`); already done → no change.
 * - `failed` (MarkFailed): a non-terminal step becomes failed with the error kind and message and
 *   `finishedAt = at`; already failed → no change (the first error stays); then the cascade runs.
 * - `skipped` (MarkSkipped): likewise, without error fields.
 *
 * A terminal step is never overwritten with a different terminal status (reference §8.3 item 14,
 * improved): a late `failed` for a done step changes nothing and cascades nothing. The cascade runs
 * whenever the step ends up failed, skipped or canceled, so re-applying an outcome repairs a cascade
 * an earlier writer missed; cascaded steps (only `pending` or `running` ones) become skipped with
 * `finishedAt = at`.
 * @throws {WorkflowError} `step_not_found` when `stepId` is not a step of the DAG.
 */
export function applyCompletion(state: DagState, stepId: string, outcome: StepOutcome, at: Date): CompletionResult {
  const step = state.steps.get(stepId);
  if (step === undefined) {
    throw new WorkflowError("step_not_found", `workflow: step ${JSON.stringify(stepId)} not found in DAG ${state.meta.id}`);
  }
  const steps = new Map(state.steps);
  const changed: string[] = [];
  let current = step;
  if (!isTerminal(step.status)) {
    current =
      outcome.status === "failed"
        ? { ...step, status: "failed", errorKind: outcome.errorKind, errorMessage: outcome.errorMessage, finishedAt: finishTime(step, at.getTime()) }
        : { ...step, status: outcome.status, finishedAt: finishTime(step, at.getTime()) };
    steps.set(stepId, current);
    changed.push(stepId);
  }
  let next: DagState = { ...state, steps };
  if (current.status !== "done") {
    const skips = cascadeSkips(next, stepId);
    for (const id of skips) {
      const s = steps.get(id) as StepRecord;
      steps.set(id, { ...s, status: "skipped", finishedAt: finishTime(s, at.getTime()) });
      changed.push(id);
    }
    next = { ...state, steps };
  }
  return { state: changed.length === 0 ? state : next, changed };
}

/**
 * Adds a step (reference §3.13 `AddStep`, used for dynamic steps); the record is stored as given.
 * @throws {WorkflowError} `duplicate_step` when a step with that id exists.
 */
export function addStep(state: DagState, record: StepRecord): DagState {
  if (state.steps.has(record.stepId)) {
    throw new WorkflowError("duplicate_step", `workflow: duplicate step ID ${JSON.stringify(record.stepId)}`);
  }
  const steps = new Map(state.steps);
  steps.set(record.stepId, record);
  return { ...state, steps };
}
