/**
 * Expectations on workflow errors and look-ups of DAG state shared by the workflow tests.
 * @module
 */
import { expect } from "vitest";
import { WorkflowError, type StepView, type Workflow } from "../../src/workflow/index.js";

/** Awaits `p`, expects it to reject with a {@link WorkflowError}, and returns that error. */
export async function rejection(p: Promise<unknown>): Promise<WorkflowError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowError);
  return err as WorkflowError;
}

/** Calls `fn`, expects it to throw a {@link WorkflowError}, and returns that error. */
export function thrown(fn: () => unknown): WorkflowError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowError);
    return err as WorkflowError;
  }
  throw new Error("expected a WorkflowError, nothing was thrown");
}

/** The step's view from `dagInfo`; throws when the DAG has no such step. */
export async function stepOf(workflow: Workflow, dagId: string, stepId: string): Promise<StepView> {
  const s = (await workflow.dagInfo(dagId)).steps.find((r) => r.stepId === stepId);
  if (!s) throw new Error(`no step ${dagId}/${stepId}`);
  return s;
}
