/**
 * Controlling DAGs (reference §3.17, §3.25): cancel and delete.
 * @module
 */
import type { WorkflowCore } from "../store/core.js";
import { CAS_ATTEMPTS } from "../store/core.js";
import { casStep } from "../store/cas.js";
import { WorkflowError } from "../model/errors.js";
import type { StepRecord } from "../model/records.js";
import { isTerminal } from "../model/records.js";
import { validateDagId } from "../model/keys.js";

/**
 * Cancels a DAG: the meta becomes `canceled` and every pending step `canceled`; running steps may
 * finish (their outcome is recorded) but nothing more is scheduled. A DAG already done, failed or
 * canceled is left alone. Unlike the reference (§8.3 item 12) steps are only touched once the meta
 * write succeeded.
 * @returns false when the DAG was already finished.
 * @throws EbindError `invalid_argument` for a malformed DAG id; WorkflowError `dag_not_found`;
 *   `stale_revision` when the meta kept changing.
 */
export async function cancelDag(core: WorkflowCore, dagId: string): Promise<boolean> {
  validateDagId(dagId);
  for (let attempt = 1; ; attempt++) {
    const meta = await core.store.getMeta(dagId);
    if (!meta) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
    const status = meta.value.status;
    if (status === "done" || status === "failed" || status === "canceled") return false;
    try {
      await core.store.updateMeta({ ...meta.value, status: "canceled" }, meta.revision);
      break;
    } catch (err) {
      if (!(err instanceof WorkflowError && err.code === "stale_revision") || attempt >= CAS_ATTEMPTS) throw err;
    }
  }
  for (const step of await core.store.listSteps(dagId)) await cancelStep(core, step.value, step.revision);
  return true;
}

async function cancelStep(core: WorkflowCore, record: StepRecord, revision: number): Promise<void> {
  await casStep(core.store, record.dagId, record.stepId, { value: record, revision }, (r) =>
    isTerminal(r.status) || r.status === "running" ? undefined : { ...r, status: "canceled", finishedAt: new Date() },
  );
}

/**
 * Deletes every record of a DAG (meta, steps, results, signals); unknown DAGs are fine (reference §3.25).
 * @throws EbindError `invalid_argument` for a malformed DAG id: a wildcard (`*`, `>`) or a dot would
 *   otherwise select the keys of other DAGs.
 */
export async function deleteDag(core: WorkflowCore, dagId: string): Promise<void> {
  validateDagId(dagId);
  await core.store.deleteDag(dagId);
}
