/**
 * The fields of a workflow log line about a step, read off its record: the fields of the step's task
 * (`taskFields`), so scheduler lines about a step carry what the worker's lines about its task carry.
 * @module
 */
import { taskFields, type LogFields } from "../../broker/logger.js";
import { stepTaskId } from "./keys.js";
import type { StepRecord } from "./records.js";

/**
 * `task_id` (`<dag>:<step>`), `task_name` (the step's handler), `attempt` (the record's: the attempt a
 * worker last started, 0 before any), `dag_id`, `step_id`, then `extra`. Call it only when a line is
 * written: it allocates.
 */
export function stepFields(record: Pick<StepRecord, "dagId" | "stepId" | "fnName" | "attempt">, extra?: LogFields): Record<string, unknown> {
  return taskFields({ id: stepTaskId(record.dagId, record.stepId), name: record.fnName, attempt: record.attempt, dagId: record.dagId, stepId: record.stepId }, extra);
}
