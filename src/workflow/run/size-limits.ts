/**
 * What a submit, or a handler adding a dynamic step, measures before it writes anything (issue 12):
 * every record it will write and every step's task must fit what the server carries, so that a DAG
 * too large for the server fails at once with a typed error instead of half-way through its writes.
 * @module
 */
import { DLQ_HEADROOM_BYTES } from "../../broker/topology.js";
import { encodeTask } from "../../task/codec.js";
import { EbindError } from "../../task/errors.js";
import { encodeDagMeta, encodeStepRecord } from "../model/codec.js";
import type { DagMeta, StepRecord } from "../model/records.js";
import { stepTask } from "./enqueue.js";

const utf8 = new TextEncoder();

/**
 * The largest record or task a DAG may write, in bytes: the server's max payload less
 * {@link DLQ_HEADROOM_BYTES}, kept for what is added later (a step's error message and worker id on
 * its record; the error of a dead-letter entry around its task).
 */
export function submitLimitBytes(maxPayloadBytes: number): number {
  return maxPayloadBytes - DLQ_HEADROOM_BYTES;
}

function tooLarge(context: string, what: string, bytes: number, maxPayloadBytes: number): EbindError {
  return new EbindError(
    "payload_too_large",
    `workflow: ${context}: ${what} would be ${bytes} bytes, more than the ${submitLimitBytes(maxPayloadBytes)} bytes it may use ` +
      `(the server's max payload of ${maxPayloadBytes} bytes less ${DLQ_HEADROOM_BYTES} kept for error details); ` +
      `nothing was written; pass large values by reference (a key, a path) instead`,
  );
}

/**
 * Measures one step's record and its task (its arguments as written; a ref's result is measured
 * again when the step starts, `enqueue.ts`) against {@link submitLimitBytes}.
 * @param context what is being done, for the message (`submit <dag>`, `add step <id> to DAG <dag>`).
 * @throws EbindError `payload_too_large` naming the step, its size and the limit.
 */
export function checkStepSize(maxPayloadBytes: number, meta: DagMeta, record: StepRecord, context: string): void {
  const limit = submitLimitBytes(maxPayloadBytes);
  const recordBytes = utf8.encode(encodeStepRecord(record)).length;
  if (recordBytes > limit) throw tooLarge(context, `step "${record.stepId}": its record`, recordBytes, maxPayloadBytes);
  const task = stepTask(meta, record, record.argsJson, record.placement?.target || undefined);
  const taskBytes = utf8.encode(encodeTask(task)).length;
  if (taskBytes > limit) throw tooLarge(context, `step "${record.stepId}": its task`, taskBytes, maxPayloadBytes);
}

/**
 * Measures the meta and every step of a submit (see {@link checkStepSize}).
 * @throws EbindError `payload_too_large` naming the step (or the meta), its size and the limit.
 */
export function checkSubmitSizes(maxPayloadBytes: number, meta: DagMeta, records: readonly StepRecord[]): void {
  const context = `submit ${meta.id}`;
  const metaBytes = utf8.encode(encodeDagMeta(meta)).length;
  if (metaBytes > submitLimitBytes(maxPayloadBytes)) throw tooLarge(context, "the DAG's meta record (its labels and breakpoints)", metaBytes, maxPayloadBytes);
  for (const record of records) checkStepSize(maxPayloadBytes, meta, record, context);
}
