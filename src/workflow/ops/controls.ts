/**
 * Controlling DAGs (reference §3.17, §3.25): cancel and delete.
 * @module
 */
import type { WorkflowCore } from "../store/core.js";
import { CAS_ATTEMPTS } from "../store/core.js";
import { WorkflowError } from "../model/errors.js";
import { isTerminal } from "../model/records.js";
import { validateDagId } from "../model/keys.js";
import { cancelStep } from "../run/fence.js";
import { allStepsTerminal, dagState, deriveFinalStatus } from "../plan/index.js";

/**
 * Cancels a DAG (reference §3.17, made a fence: issue 11). The meta becomes `canceled`, then every
 * step that is not terminal becomes `canceled` — running ones included: their handlers' signals
 * abort with kind `canceled`, a value they return later is not stored, their retries stop, and every
 * await of a step or of the DAG rejects at once. Once this returns, no step of the DAG starts that
 * had not started (`run/fence.ts`). A DAG already done, failed or canceled is left alone. Unlike the
 * reference (§8.3 item 12) steps are only touched once the meta write succeeded.
 * @returns false when the DAG had already finished — or every step had, and the DAG was only
 *   waiting for its final status, which is then written.
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
    // Every step finished already, only the DAG's final status is not written yet: it is over, and
    // cancel writes that status rather than turning a finished DAG canceled.
    const steps = await core.store.listSteps(dagId);
    const state = dagState(meta.value, steps.map((s) => s.value));
    const over = allStepsTerminal(state);
    try {
      await core.store.updateMeta({ ...meta.value, status: over ? deriveFinalStatus(state) : "canceled" }, meta.revision);
      if (over) return false;
      break;
    } catch (err) {
      if (!(err instanceof WorkflowError && err.code === "stale_revision") || attempt >= CAS_ATTEMPTS) throw err;
    }
  }
  const steps = await core.store.listSteps(dagId);
  await Promise.all(steps.filter((s) => !isTerminal(s.value.status)).map((s) => cancelStep(core, dagId, s.value.stepId, s)));
  return true;
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
