/**
 * The drain of a pause (reference §3.18, with issue 11's fixes): the fence passes that hold every
 * step not yet started, and the move of a `pausing` DAG to `paused` once nothing runs — or straight
 * to its final status when every step has finished meanwhile (nothing is left to hold). Shared by
 * `pause()`, the scheduler (after a completion while pausing) and the sweep. Releasing holds on
 * resume lives here too.
 * @module
 */
import { WorkflowError } from "../model/errors.js";
import type { DagMeta, DagStatus } from "../model/records.js";
import { isTerminal } from "../model/records.js";
import { allStepsTerminal, deriveFinalStatus, dagState } from "../plan/index.js";
import { casStep } from "../store/cas.js";
import { CAS_ATTEMPTS, type WorkflowCore } from "../store/core.js";
import { holdStep, notStarted } from "./fence.js";

/** Fence passes at most (reference §3.16: 5); a DAG still changing after them counts as in flight. */
const FENCE_PASSES = 5;

/** What the fence found. */
export interface FenceReport {
  /** Some step has started and not finished (or the DAG kept changing). */
  readonly inFlight: boolean;
}

/**
 * Holds every step not yet started, pass after pass, until a pass changes nothing (steps added
 * meanwhile by running handlers are caught by the next pass).
 */
export async function fenceDag(core: WorkflowCore, dagId: string): Promise<FenceReport> {
  for (let pass = 1; pass <= FENCE_PASSES; pass++) {
    const steps = await core.store.listSteps(dagId);
    let changed = false;
    let inFlight = false;
    const results = await Promise.all(steps.filter((s) => !isTerminal(s.value.status)).map((s) => holdStep(core, dagId, s.value.stepId, s)));
    for (const r of results) {
      if (r === "held") changed = true;
      if (r === "in-flight") inFlight = true;
    }
    if (!changed) return { inFlight };
  }
  return { inFlight: true };
}

/**
 * Moves a `pausing` DAG on when its drain is over: every step terminal → its final status (done or
 * failed); nothing started left running → `paused`. Any other status is left alone.
 * @returns the meta's status afterwards, or undefined when the DAG is gone.
 */
export async function settlePausing(core: WorkflowCore, dagId: string): Promise<DagStatus | undefined> {
  for (let attempt = 1; ; attempt++) {
    const meta = await core.store.getMeta(dagId);
    if (!meta) return undefined;
    if (meta.value.status !== "pausing") return meta.value.status;
    const steps = (await core.store.listSteps(dagId)).map((s) => s.value);
    const state = dagState(meta.value, steps);
    let next: DagMeta;
    if (allStepsTerminal(state)) next = { ...meta.value, status: deriveFinalStatus(state) };
    else if (steps.some((s) => s.status === "running" && !notStarted(s))) return "pausing";
    else next = { ...meta.value, status: "paused" };
    try {
      await core.store.updateMeta(next, meta.revision);
      return next.status;
    } catch (err) {
      if (!(err instanceof WorkflowError && err.code === "stale_revision") || attempt >= CAS_ATTEMPTS) throw err;
    }
  }
}

/** Releases every held step of the DAG (resume, or a pause that lost to a resume). */
export async function releaseHolds(core: WorkflowCore, dagId: string): Promise<number> {
  const held = (await core.store.listSteps(dagId)).filter((s) => s.value.status === "pending" && s.value.held);
  const released = await Promise.all(
    held.map((s) => casStep(core.store, dagId, s.value.stepId, s, (r) => (r.status === "pending" && r.held ? { ...r, held: false, heldAt: undefined } : undefined))),
  );
  return released.filter((r) => r !== undefined).length;
}
