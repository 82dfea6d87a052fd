/**
 * The workflow's side of a DLQ requeue (issue 12): before `requeueDeadLetter` republishes the task
 * of a failed step, the step is reopened so that its new outcome counts.
 *
 * `requeueDeadLetter` (src/dlq) may not import the workflow, so it takes this as its `prepare`
 * option and refuses to requeue a step's task without it (the gate would drop the task and the
 * entry would be lost). Reopening, in this order (whoever caches a DAG's graph relies on the meta
 * moving last, `run/graph-cache.ts`):
 * 1. the step, by compare-and-set from `failed` to `running` (attempt 0, a new start time, its
 *    error cleared) — only the start whose task the entry holds (`enqueued_at` = the record's
 *    `started_at`), so an entry of an earlier start or of an earlier DAG under the same id is
 *    refused, and of two requeues racing one wins;
 * 2. the steps the failure's cascade skipped, back to `pending` (`plan/reopen.ts`);
 * 3. the meta: `failed` (or `done`, when the step was optional) back to `running`; a running meta is
 *    touched. A cancel or pause landing meanwhile is applied to the reopened step (`run/fence.ts`)
 *    and the requeue refused.
 * The task to publish gets `enqueued_at` = the new start time, so the start gate takes it as this
 * start's task. If publishing it then fails, the step stays running with no task: the scheduler's
 * sweep publishes it again after `strandedAfterMs`, and a second requeue of the entry is refused.
 * @module
 */
import { taskFields } from "../../broker/logger.js";
import type { Task } from "../../task/envelope.js";
import { EbindError } from "../../task/errors.js";
import { WorkflowError } from "../model/errors.js";
import type { StepRecord } from "../model/records.js";
import { reopenedWith } from "../plan/index.js";
import { nextStartTime } from "../run/enqueue.js";
import { fenceStarted } from "../run/fence.js";
import { casStep } from "../store/cas.js";
import { CAS_ATTEMPTS, type WorkflowCore } from "../store/core.js";
import type { Versioned } from "../store/store.js";

/**
 * Reopens the failed step `task` belongs to (see the module comment) and returns the task to
 * republish; a task that is not a step's is returned as it is.
 * @param task the task as the DLQ would republish it.
 * @param entry the dead-letter entry, its task as it was dead-lettered (its `enqueued_at` names the
 *   start that failed).
 * @throws EbindError `conflict` naming why, when the requeue must not happen: the DAG was deleted,
 *   canceled or is paused; the step no longer exists, is not failed (requeued already?), or failed
 *   in a later start than the entry's. Nothing was changed then, except that a cancel or pause
 *   racing the reopen is applied to the step.
 */
export async function prepareRequeue(core: WorkflowCore, task: Task, entry: { readonly task: Task }): Promise<Task> {
  const { dagId, stepId } = task;
  if (!dagId || !stepId) return task;
  const refuse = (why: string): EbindError => new EbindError("conflict", `workflow: requeue of step "${stepId}" of DAG ${dagId} refused: ${why}`);
  const loaded = await core.store.load(dagId);
  if (!loaded) throw refuse("the DAG was deleted");
  checkMetaStatus(loaded.state.meta.status, refuse);
  let why = "the step no longer exists";
  const record = loaded.state.steps.get(stepId);
  const start = record ? { value: record, revision: loaded.stepRevisions.get(stepId)! } : null;
  const reopened = await casStep(core.store, dagId, stepId, start, (r) => {
    if (r.status !== "failed") return (why = `the step is ${r.status}, not failed (requeued already?)`), undefined;
    if (r.startedAt?.getTime() !== entry.task.enqueuedAt.getTime()) {
      return (why = "the entry is of an earlier start of the step, or of an earlier DAG under this id"), undefined;
    }
    return reopen(r);
  });
  if (!reopened) throw refuse(why);
  for (const id of reopenedWith(loaded.state, stepId)) {
    const dependent = { value: loaded.state.steps.get(id)!, revision: loaded.stepRevisions.get(id)! };
    await casStep(core.store, dagId, id, dependent, (r) =>
      r.status === "skipped" ? { ...r, status: "pending", errorKind: undefined, errorMessage: undefined, finishedAt: undefined } : undefined,
    );
  }
  await reopenMeta(core, dagId, reopened, refuse);
  core.logger.info(taskFields(task), "workflow: a failed step was reopened for its DLQ requeue");
  return { ...task, attempt: 0, enqueuedAt: reopened.value.startedAt! };
}

/** The record of a failed step started again, not yet taken by a worker. */
function reopen(r: StepRecord): StepRecord {
  return {
    ...r,
    status: "running",
    attempt: 0,
    startedAt: nextStartTime(r),
    finishedAt: undefined,
    errorKind: undefined,
    errorMessage: undefined,
    workerId: undefined,
    held: false,
    heldAt: undefined,
  };
}

function checkMetaStatus(status: string, refuse: (why: string) => EbindError): void {
  if (status === "canceled") throw refuse("the DAG was canceled");
  if (status === "pausing" || status === "paused") throw refuse(`the DAG is ${status}: resume it, then requeue`);
}

/** Step 3 of the module comment: the meta back to running, or touched; the fence if it moved away. */
async function reopenMeta(core: WorkflowCore, dagId: string, reopened: Versioned<StepRecord>, refuse: (why: string) => EbindError): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const meta = await core.store.getMeta(dagId);
    if (!meta) throw refuse("the DAG was deleted");
    const status = meta.value.status;
    if (status === "canceled" || status === "pausing" || status === "paused") {
      await fenceStarted(core, status, [reopened]);
      throw refuse(status === "canceled" ? "the DAG was canceled meanwhile" : `the DAG was paused meanwhile (the step runs on resume)`);
    }
    try {
      await core.store.updateMeta(status === "running" ? meta.value : { ...meta.value, status: "running" }, meta.revision);
      return;
    } catch (err) {
      if (!(err instanceof WorkflowError && err.code === "stale_revision") || attempt >= CAS_ATTEMPTS) throw err;
    }
  }
}
