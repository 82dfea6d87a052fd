/**
 * Errors of the workflow layer: one class, {@link WorkflowError}, whose `code` names the condition
 * (the Go library's sentinel errors, reference §1.7.10). Messages start with `workflow: `; without a
 * message of its own an error carries the sentinel's exact text (`workflow: step failed`, …).
 * @module
 */

/** The conditions a {@link WorkflowError} reports (reference §1.7.10, plus `invalid`). */
export const WorkflowErrorCode = {
  /** Awaiting a step that failed. */
  StepFailed: "step_failed",
  /** Awaiting a step that was skipped (cascade). */
  StepSkipped: "step_skipped",
  /** Awaiting a step that was canceled. */
  StepCanceled: "step_canceled",
  /** No meta record for the DAG id. */
  DagNotFound: "dag_not_found",
  /** The DAG was canceled. */
  DagCanceled: "dag_canceled",
  /** Awaiting a DAG that failed (a non-optional step failed or was skipped). */
  DagFailed: "dag_failed",
  /** No record for the step id. */
  StepNotFound: "step_not_found",
  /** No such signal. */
  SignalNotFound: "signal_not_found",
  /** The dependency graph has a cycle. */
  Cycle: "cycle",
  /** A step id is used twice. */
  DuplicateStep: "duplicate_step",
  /** A compare-and-set lost against a concurrent writer. */
  StaleRevision: "stale_revision",
  /** The operation needs a running DAG. */
  DagNotRunning: "dag_not_running",
  /** The operation needs a paused (or pausing) DAG. */
  DagNotPaused: "dag_not_paused",
  /** A DAG, step or argument list that cannot be built or resolved (builder and validation errors). */
  Invalid: "invalid",
} as const;

/** One of the codes in {@link WorkflowErrorCode}. */
export type WorkflowErrorCode = (typeof WorkflowErrorCode)[keyof typeof WorkflowErrorCode];

/** The sentinel text of each code: the default message (reference §1.7.10). */
export const WORKFLOW_ERROR_TEXT: Readonly<Record<WorkflowErrorCode, string>> = Object.freeze({
  step_failed: "workflow: step failed",
  step_skipped: "workflow: step skipped",
  step_canceled: "workflow: step canceled",
  dag_not_found: "workflow: DAG not found",
  dag_canceled: "workflow: DAG canceled",
  dag_failed: "workflow: DAG failed",
  step_not_found: "workflow: step not found",
  signal_not_found: "workflow: signal not found",
  cycle: "workflow: cycle detected",
  duplicate_step: "workflow: duplicate step ID",
  stale_revision: "workflow: stale revision",
  dag_not_running: "workflow: DAG not running",
  dag_not_paused: "workflow: DAG not paused",
  invalid: "workflow: invalid DAG",
});

/**
 * A workflow failure or misuse, identified by {@link WorkflowErrorCode}.
 *
 * @example
 * throw new WorkflowError("step_not_found", `workflow: step "b" not found in DAG d1`);
 * if (isWorkflowError(err, "stale_revision")) retry();
 */
export class WorkflowError extends Error {
  override readonly name = "WorkflowError";
  /** What went wrong. */
  readonly code: WorkflowErrorCode;

  /**
   * @param code the condition.
   * @param message the full message (by convention starting with `workflow: `); absent or empty →
   *   the sentinel text of `code` ({@link WORKFLOW_ERROR_TEXT}).
   * @param options an optional `cause`.
   */
  constructor(code: WorkflowErrorCode, message?: string, options: { cause?: unknown } = {}) {
    super(message === undefined || message === "" ? WORKFLOW_ERROR_TEXT[code] : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/**
 * Whether `err` is a {@link WorkflowError}, and when `code` is given, one with that code.
 * Only the error itself is inspected, not its `cause` chain.
 */
export function isWorkflowError(err: unknown, code?: WorkflowErrorCode): err is WorkflowError {
  return err instanceof WorkflowError && (code === undefined || err.code === code);
}
