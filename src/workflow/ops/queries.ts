/**
 * Reading workflows: a DAG's records with what each pending step waits on, the debug report
 * (reference §3.27), DAGs by labels (reference §3.20).
 * @module
 */
import { validateDagId } from "../model/keys.js";
import type { WorkflowCore } from "../store/core.js";
import { WorkflowError } from "../model/errors.js";
import type { DagMeta, StepRecord } from "../model/records.js";
import { debugDag, stepWaits, type DagDebug, type StepWaits } from "../plan/index.js";
import type { LoadedDag } from "../store/store.js";

/** A step record, with what it waits on while it is pending. */
export type StepView = StepRecord & {
  /** For a pending step: the dependencies, hold, breakpoints and signals it waits on. */
  readonly waitingOn?: StepWaits | undefined;
};

/** A DAG's meta and steps (sorted by when they were added, then id). */
export interface DagInfo {
  readonly meta: DagMeta;
  readonly steps: StepView[];
}

async function loadOrThrow(core: WorkflowCore, dagId: string): Promise<LoadedDag> {
  validateDagId(dagId);
  const loaded = await core.store.load(dagId);
  if (!loaded) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
  return loaded;
}

/**
 * @throws EbindError `invalid_argument` for a malformed id; WorkflowError `dag_not_found`.
 */
export async function dagInfo(core: WorkflowCore, dagId: string): Promise<DagInfo> {
  const { state } = await loadOrThrow(core, dagId);
  const steps = [...state.steps.values()]
    .sort((a, b) => a.addedAt.getTime() - b.addedAt.getTime() || (a.stepId < b.stepId ? -1 : a.stepId > b.stepId ? 1 : 0))
    .map((r): StepView => {
      const waits = stepWaits(state, r);
      return waits ? { ...r, waitingOn: waits } : r;
    });
  return { meta: state.meta, steps };
}

/**
 * The debug report of a DAG (reference §3.27); `formatDebug(report)` renders it as text.
 * @throws EbindError `invalid_argument` for a malformed id; WorkflowError `dag_not_found`.
 */
export async function debugReport(core: WorkflowCore, dagId: string): Promise<DagDebug> {
  const { state } = await loadOrThrow(core, dagId);
  // Every delivered signal, awaited or not (the load lists them only when a step uses one).
  const signals = await core.store.listSignals(dagId);
  return debugDag({ ...state, signals: new Map(signals.map((s) => [s.name, s])) });
}

/** Metas of the DAGs carrying every one of `labels` (all DAGs when none), newest first (reference §3.20). */
export async function listDagsByLabels(core: WorkflowCore, labels: readonly string[]): Promise<DagMeta[]> {
  const metas = await core.store.listMetas();
  return metas
    .filter((m) => labels.every((l) => m.labels?.includes(l)))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
}
