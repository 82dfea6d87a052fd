/**
 * What a submit measures before it writes anything (issue 12): every record it will write and every
 * step's task must fit what the server carries, so that a DAG too large for the server fails at
 * submit with a typed error instead of half-way through its writes.
 * @module
 */
import { DLQ_HEADROOM_BYTES } from "../../broker/topology.js";
import { encodeTask } from "../../task/codec.js";
import { EbindError } from "../../task/errors.js";
import { encodeDagMeta, encodeStepRecord } from "../model/codec.js";
import type { DagMeta, StepRecord } from "../model/records.js";
import { stepTask } from "../run/enqueue.js";

const utf8 = new TextEncoder();

/**
 * The largest record or task a DAG may write, in bytes: the server's max payload less
 * {@link DLQ_HEADROOM_BYTES}, kept for what is added later (a step's error message and worker id on
 * its record; the error of a dead-letter entry around its task).
 */
export function submitLimitBytes(maxPayloadBytes: number): number {
  return maxPayloadBytes - DLQ_HEADROOM_BYTES;
}

/**
 * Measures the meta, each step record and each step's task (its arguments as written; a ref's
 * result is measured again when the step starts, `run/enqueue.ts`) against
 * {@link submitLimitBytes}.
 * @throws EbindError `payload_too_large` naming the step (or the meta), its size and the limit.
 */
export function checkSubmitSizes(maxPayloadBytes: number, meta: DagMeta, records: readonly StepRecord[]): void {
  const limit = submitLimitBytes(maxPayloadBytes);
  const tooLarge = (what: string, bytes: number): EbindError =>
    new EbindError(
      "payload_too_large",
      `workflow: submit ${meta.id}: ${what} would be ${bytes} bytes, more than the ${limit} bytes it may use ` +
        `(the server's max payload of ${maxPayloadBytes} bytes less ${DLQ_HEADROOM_BYTES} kept for error details); ` +
        `nothing was written; pass large values by reference (a key, a path) instead`,
    );
  const metaBytes = utf8.encode(encodeDagMeta(meta)).length;
  if (metaBytes > limit) throw tooLarge("the DAG's meta record (its labels and breakpoints)", metaBytes);
  for (const record of records) {
    const recordBytes = utf8.encode(encodeStepRecord(record)).length;
    if (recordBytes > limit) throw tooLarge(`step "${record.stepId}": its record`, recordBytes);
    const task = stepTask(meta, record, record.argsJson, record.placement?.target || undefined);
    const taskBytes = utf8.encode(encodeTask(task)).length;
    if (taskBytes > limit) throw tooLarge(`step "${record.stepId}": its task`, taskBytes);
  }
}
