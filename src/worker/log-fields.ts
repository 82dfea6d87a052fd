/**
 * The fields of a worker's log line about a delivery whose task it has not decoded (a hand-back or a
 * park that failed, an unexpected error): the task's own fields when its envelope decodes, so every
 * line about a task carries `task_id`, `task_name`, `attempt` (and `dag_id`/`step_id`), as lines with the
 * task in hand do (`taskFields`).
 * @module
 */
import { taskFields, type LogFields } from "../broker/logger.js";
import { attemptsBefore } from "../broker/parking.js";
import type { Delivery } from "../broker/port.js";
import { decodeTask } from "../task/codec.js";

/**
 * `subject` and `seq` (the stream sequence) of the delivery, after the task's fields when its
 * envelope decodes — `attempt` being the attempt this delivery is or would be (the attempts that ran
 * it before, plus one, as admission counts it) — then `extra`. Decodes the envelope: call it only
 * when a line is written.
 */
export function deliveryFields(delivery: Delivery, extra?: LogFields): Record<string, unknown> {
  let fields: Record<string, unknown> = {};
  try {
    const task = decodeTask(delivery.data);
    fields = taskFields({ ...task, attempt: attemptsBefore(delivery) + 1 });
  } catch {
    // Not a task envelope: the subject and sequence are all there is.
  }
  fields.subject = delivery.subject;
  fields.seq = delivery.streamSeq;
  return extra === undefined ? fields : Object.assign(fields, extra);
}
