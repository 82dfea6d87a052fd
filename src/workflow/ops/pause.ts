/**
 * Pause and resume of a DAG (reference §3.18, with issue 11's fixes), one at a time or every running
 * DAG carrying given labels.
 *
 * Pause: the meta becomes `pausing` (with `paused_at`), then the fence holds every step that has not
 * started (`run/fence.ts`, `run/pausing.ts`); running steps finish and keep their retry chain. The
 * DAG becomes `paused` when the last of them ends — or done/failed at once when every step has
 * finished (nothing is left to hold). Once `pause()` returns, no step of the DAG starts.
 *
 * Resume: the meta becomes `running` again (`paused_at` cleared), every hold is released and a
 * `resumed` event makes a scheduler start what is ready. Accepted while still `pausing`. A DAG that
 * finished while it was pausing reports its final status: resume is then a no-op.
 * @module
 */
import { publishEvent } from "../store/events.js";
import { WorkflowError } from "../model/errors.js";
import { validateDagId } from "../model/keys.js";
import type { DagMeta, DagStatus } from "../model/records.js";
import { fenceDag, releaseHolds, settlePausing } from "../run/pausing.js";
import { CAS_ATTEMPTS, type WorkflowCore } from "../store/core.js";

function isStale(err: unknown): boolean {
  return err instanceof WorkflowError && err.code === "stale_revision";
}

/**
 * Pauses a running DAG.
 * @returns the DAG's status afterwards: `pausing` (steps still running), `paused`, `done`/`failed`
 *   (every step had finished: nothing was left to hold), or — when another process resumed or
 *   canceled it meanwhile — `running`/`canceled`.
 * @throws EbindError `invalid_argument` for a malformed id; WorkflowError `dag_not_found`;
 *   `dag_not_running` naming the DAG and its status when it is not `running` (pausing, paused,
 *   done, failed, canceled); `stale_revision` when the meta kept changing.
 */
export async function pauseDag(core: WorkflowCore, dagId: string): Promise<DagStatus> {
  validateDagId(dagId);
  for (let attempt = 1; ; attempt++) {
    const meta = await core.store.getMeta(dagId);
    if (!meta) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
    const status = meta.value.status;
    if (status !== "running") {
      throw new WorkflowError("dag_not_running", `workflow: cannot pause DAG ${dagId}: status is ${status} (only a running DAG can be paused)`);
    }
    try {
      await core.store.updateMeta({ ...meta.value, status: "pausing", pausedAt: new Date() }, meta.revision);
      break;
    } catch (err) {
      if (!isStale(err) || attempt >= CAS_ATTEMPTS) throw err;
    }
  }
  await fenceDag(core, dagId);
  const after = await settlePausing(core, dagId);
  if (after === undefined) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId} (deleted while pausing)`);
  if (after === "running") {
    // A resume overtook this pause while the fence was holding steps: give back what it held.
    await releaseHolds(core, dagId);
    await publishEvent(core.broker, { kind: "resumed", dagId, stepId: dagId });
  }
  return after;
}

/**
 * Resumes a paused or pausing DAG; on a running DAG it releases leftover holds (a repair).
 * @returns the DAG's status: `running`, or the final status of a DAG that finished while it was
 *   pausing (then nothing was changed).
 * @throws EbindError `invalid_argument` for a malformed id; WorkflowError `dag_not_found`;
 *   `dag_not_paused` naming the DAG and its status for a DAG that finished without being paused,
 *   or was canceled; `stale_revision` when the meta kept changing.
 */
export async function resumeDag(core: WorkflowCore, dagId: string): Promise<DagStatus> {
  validateDagId(dagId);
  for (let attempt = 1; ; attempt++) {
    const meta = await core.store.getMeta(dagId);
    if (!meta) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
    const { status, pausedAt } = meta.value;
    if (status === "running") break;
    if (status === "done" || status === "failed" || status === "canceled") {
      if (pausedAt !== undefined && status !== "canceled") return status; // finished while pausing
      throw new WorkflowError("dag_not_paused", `workflow: cannot resume DAG ${dagId}: status is ${status} (it is not paused)`);
    }
    try {
      await core.store.updateMeta({ ...meta.value, status: "running", pausedAt: undefined }, meta.revision);
      break;
    } catch (err) {
      if (!isStale(err) || attempt >= CAS_ATTEMPTS) throw err;
    }
  }
  await releaseHolds(core, dagId);
  await publishEvent(core.broker, { kind: "resumed", dagId, stepId: dagId });
  return "running";
}

/** What a pause or resume by labels did to one DAG. */
export interface LabelControlResult {
  readonly dagId: string;
  /** The DAG's status afterwards; undefined when it failed. */
  readonly status?: DagStatus | undefined;
  /** Why it failed (it changed status meanwhile, was deleted, …). */
  readonly error?: WorkflowError | undefined;
}

/**
 * The DAGs carrying every label, checked: at least one label, each non-empty, and each carried by
 * some DAG (whatever its status).
 * @throws WorkflowError `invalid` naming the offending label.
 */
async function dagsWithLabels(core: WorkflowCore, labels: readonly string[], verb: string): Promise<DagMeta[]> {
  if (labels.length === 0) throw new WorkflowError("invalid", `workflow: ${verb} by labels needs at least one label`);
  for (const label of labels) {
    if (typeof label !== "string" || label.length === 0) throw new WorkflowError("invalid", `workflow: ${verb} by labels: labels must be non-empty strings`);
  }
  const metas = await core.store.listMetas();
  for (const label of labels) {
    if (!metas.some((m) => m.labels?.includes(label))) throw new WorkflowError("invalid", `workflow: ${verb} by labels: no DAG carries the label ${JSON.stringify(label)}`);
  }
  return metas.filter((m) => labels.every((l) => m.labels?.includes(l)));
}

async function eachDag(metas: readonly DagMeta[], action: (dagId: string) => Promise<DagStatus>): Promise<LabelControlResult[]> {
  return Promise.all(
    metas.map(async (m) => {
      try {
        return { dagId: m.id, status: await action(m.id) };
      } catch (err) {
        if (err instanceof WorkflowError) return { dagId: m.id, error: err };
        throw err;
      }
    }),
  );
}

/**
 * Pauses every `running` DAG that carries all of `labels`.
 * @returns one result per DAG paused (or that failed to pause), sorted by DAG id.
 * @throws WorkflowError `invalid` for no labels, an empty label, or a label no DAG carries.
 */
export async function pauseByLabels(core: WorkflowCore, labels: readonly string[]): Promise<LabelControlResult[]> {
  const metas = (await dagsWithLabels(core, labels, "pause")).filter((m) => m.status === "running");
  return (await eachDag(metas, (id) => pauseDag(core, id))).sort((a, b) => (a.dagId < b.dagId ? -1 : 1));
}

/**
 * Resumes every `pausing` or `paused` DAG that carries all of `labels`.
 * @returns one result per DAG resumed (or that failed to resume), sorted by DAG id.
 * @throws WorkflowError `invalid` for no labels, an empty label, or a label no DAG carries.
 */
export async function resumeByLabels(core: WorkflowCore, labels: readonly string[]): Promise<LabelControlResult[]> {
  const metas = (await dagsWithLabels(core, labels, "resume")).filter((m) => m.status === "pausing" || m.status === "paused");
  return (await eachDag(metas, (id) => resumeDag(core, id))).sort((a, b) => (a.dagId < b.dagId ? -1 : 1));
}
