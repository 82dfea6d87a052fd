import { describe, expect, it } from "vitest";
import { WORKFLOW_ERROR_TEXT, WorkflowError, WorkflowErrorCode, isWorkflowError } from "../../../src/workflow/model/errors.js";

describe("WorkflowError (reference §1.7.10)", () => {
  it("defaults to the sentinel texts", () => {
    expect(new WorkflowError("step_failed").message).toBe("workflow: step failed");
    expect(new WorkflowError("step_skipped").message).toBe("workflow: step skipped");
    expect(new WorkflowError("step_canceled").message).toBe("workflow: step canceled");
    expect(new WorkflowError("dag_not_found").message).toBe("workflow: DAG not found");
    expect(new WorkflowError("dag_canceled").message).toBe("workflow: DAG canceled");
    expect(new WorkflowError("step_not_found").message).toBe("workflow: step not found");
    expect(new WorkflowError("signal_not_found").message).toBe("workflow: signal not found");
    expect(new WorkflowError("cycle").message).toBe("workflow: cycle detected");
    expect(new WorkflowError("duplicate_step").message).toBe("workflow: duplicate step ID");
    expect(new WorkflowError("stale_revision").message).toBe("workflow: stale revision");
    expect(new WorkflowError("dag_not_running").message).toBe("workflow: DAG not running");
    expect(new WorkflowError("dag_not_paused").message).toBe("workflow: DAG not paused");
    expect(new WorkflowError("invalid").message).toBe("workflow: invalid DAG");
    for (const code of Object.values(WorkflowErrorCode)) expect(WORKFLOW_ERROR_TEXT[code]).toMatch(/^workflow: /);
  });

  it("takes a full message and a cause; isWorkflowError checks the code", () => {
    const cause = new Error("kv");
    const e = new WorkflowError(WorkflowErrorCode.StaleRevision, "workflow: put meta: stale revision", { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("WorkflowError");
    expect(e.message).toBe("workflow: put meta: stale revision");
    expect(e.cause).toBe(cause);
    expect(isWorkflowError(e)).toBe(true);
    expect(isWorkflowError(e, "stale_revision")).toBe(true);
    expect(isWorkflowError(e, "cycle")).toBe(false);
    expect(isWorkflowError(cause)).toBe(false);
    expect(isWorkflowError("workflow: stale revision")).toBe(false);
  });
});
