/**
 * Reading workflows: a DAG's records with what each pending step waits on, the debug report
 * (reference §3.27), DAGs by labels (reference §3.20).
 * @module
 */
import { validateDagId } from "../model/keys.js";
import type { WorkflowCore } from "../store/core.js";
import { WorkflowError } from "../model/errors.js";
import type { DagMeta, StepRecord } from "../model/records.js";
import { debugDag, stepWaits, type DagDebug, type DagState, type QueuedInfo, type StepWaits } from "../plan/index.js";
import { listPausedTasks } from "../../client/task-pauses.js";
import { resolveTarget } from "../run/enqueue.js";
import { notStarted } from "../run/fence.js";
import type { LoadedDag } from "../store/store.js";

/** A step record, with what it waits on while it is pending or queued. */
export type StepView = StepRecord & {
  /** For a pending step: the dependencies, hold, breakpoints and signals it waits on. */
  readonly waitingOn?: StepWaits | undefined;
  /**
   * For a step marked running that no worker has started yet: its task is queued, maybe for a worker
   * holding its target, maybe parked because its task name is paused.
   */
  readonly queued?: QueuedInfo | undefined;
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
  const queued = await queuedSteps(core, state);
  const steps = [...state.steps.values()]
    .sort((a, b) => a.addedAt.getTime() - b.addedAt.getTime() || (a.stepId < b.stepId ? -1 : a.stepId > b.stepId ? 1 : 0))
    .map((r): StepView => {
      const waits = stepWaits(state, r);
      const q = queued.get(r.stepId);
      return waits || q ? { ...r, ...(waits ? { waitingOn: waits } : {}), ...(q ? { queued: q } : {}) } : r;
    });
  return { meta: state.meta, steps };
}

/**
 * What the tasks of running steps no worker has started wait on: their target (resolved as the
 * scheduler would now), and whether their task name is paused (read only when there are some).
 */
async function queuedSteps(core: WorkflowCore, state: DagState): Promise<Map<string, QueuedInfo>> {
  const waiting = [...state.steps.values()].filter(notStarted);
  const out = new Map<string, QueuedInfo>();
  if (waiting.length === 0) return out;
  const paused = new Set((await listPausedTasks(core.broker).catch(() => [])).map((p) => p.name));
  const ctx = { step: (id: string) => state.steps.get(id), signal: (name: string) => state.signals.get(name)?.payload };
  for (const r of waiting) {
    let target: string | undefined;
    try {
      target = resolveTarget(r, ctx);
    } catch {
      target = undefined; // unresolvable now: the step fails with kind placement when it is started again
    }
    out.set(r.stepId, { target, taskPaused: paused.has(r.fnName) });
  }
  return out;
}

/**
 * The debug report of a DAG (reference §3.27); `formatDebug(report)` renders it as text.
 * @throws EbindError `invalid_argument` for a malformed id; WorkflowError `dag_not_found`.
 */
export async function debugReport(core: WorkflowCore, dagId: string): Promise<DagDebug> {
  const { state } = await loadOrThrow(core, dagId);
  // Every delivered signal, awaited or not (the load lists them only when a step uses one).
  const signals = await core.store.listSignals(dagId);
  const full = { ...state, signals: new Map(signals.map((s) => [s.name, s])) };
  return debugDag(full, await queuedSteps(core, full));
}

/** Metas of the DAGs carrying every one of `labels` (all DAGs when none), newest first (reference §3.20). */
export async function listDagsByLabels(core: WorkflowCore, labels: readonly string[]): Promise<DagMeta[]> {
  const metas = await core.store.listMetas();
  return metas
    .filter((m) => labels.every((l) => m.labels?.includes(l)))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
}
