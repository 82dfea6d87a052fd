/**
 * Reading workflows (reference §3.20): a DAG's records, DAGs by labels.
 * @module
 */
import { validateDagId } from "../model/keys.js";
import type { WorkflowCore } from "../store/core.js";
import { WorkflowError } from "../model/errors.js";
import type { DagMeta, StepRecord } from "../model/records.js";

/** A DAG's meta and steps (sorted by when they were added, then id). */
export interface DagInfo {
  readonly meta: DagMeta;
  readonly steps: StepRecord[];
}

/**
 * @throws WorkflowError `dag_not_found`.
 */
export async function dagInfo(core: WorkflowCore, dagId: string): Promise<DagInfo> {
  validateDagId(dagId);
  const loaded = await core.store.load(dagId);
  if (!loaded) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
  const steps = [...loaded.state.steps.values()].sort((a, b) => a.addedAt.getTime() - b.addedAt.getTime() || a.stepId.localeCompare(b.stepId));
  return { meta: loaded.state.meta, steps };
}

/** Metas of the DAGs carrying every one of `labels` (all DAGs when none), newest first (reference §3.20). */
export async function listDagsByLabels(core: WorkflowCore, labels: readonly string[]): Promise<DagMeta[]> {
  const metas = await core.store.listMetas();
  return metas
    .filter((m) => labels.every((l) => m.labels?.includes(l)))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
}
