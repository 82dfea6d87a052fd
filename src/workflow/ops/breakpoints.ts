/**
 * Releasing and listing breakpoints (reference §3.19). A release is a compare-and-set per stop,
 * announced by one `bp_resumed` per release, followed always by a `resumed` event (so a release that
 * died before its events converges when repeated). The label stays armed: later steps carrying it
 * stop again. A release while the DAG is paused is kept and takes effect on resume; pause holds are
 * never touched.
 * @module
 */
import { WorkflowError } from "../model/errors.js";
import { validateDagId } from "../model/keys.js";
import { blockedAtBefore, computeBreakpoints, holdingAtAfter, type BreakpointInfo } from "../plan/index.js";
import { casStep } from "../store/cas.js";
import type { WorkflowCore } from "../store/core.js";
import { publishEvent } from "../store/events.js";
import type { LoadedDag } from "../store/store.js";

async function loadOrThrow(core: WorkflowCore, dagId: string): Promise<LoadedDag> {
  validateDagId(dagId);
  const loaded = await core.store.load(dagId);
  if (!loaded) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
  return loaded;
}

/**
 * Releases every stop of the DAG whose breakpoint carries `label` — any of its labels, armed or not
 * (reference §3.19).
 * @returns how many stops were released (0 for a finished DAG, or when nothing stops there now).
 * @throws EbindError `invalid_argument` for a malformed id; WorkflowError `dag_not_found`;
 *   `invalid` for an empty label, or one that no step of the DAG declares (naming the labels it has).
 */
export async function resumeBreakpoint(core: WorkflowCore, dagId: string, label: string): Promise<number> {
  if (typeof label !== "string" || label.length === 0) throw new WorkflowError("invalid", `workflow: resumeBreakpoint of DAG ${dagId}: the label must be a non-empty string`);
  const { state } = await loadOrThrow(core, dagId);
  const declared = new Set<string>();
  for (const s of state.steps.values()) for (const l of [...s.breakBefore, ...s.breakAfter]) declared.add(l);
  if (!declared.has(label)) {
    const known = [...declared].sort().map((l) => JSON.stringify(l)).join(", ");
    throw new WorkflowError("invalid", `workflow: DAG ${dagId} has no breakpoint labelled ${JSON.stringify(label)} (${known ? `its labels: ${known}` : "it declares none"})`);
  }
  const status = state.meta.status;
  if (status === "done" || status === "failed" || status === "canceled") return 0;
  let released = 0;
  const release = async (stepId: string, position: "before" | "after"): Promise<void> => {
    const written = await casStep(core.store, dagId, stepId, null, (r) => {
      if (position === "before" ? r.status !== "pending" || r.bpBefore === "released" : r.status !== "done" || r.bpAfter === "released") return undefined;
      return { ...r, ...(position === "before" ? { bpBefore: "released" as const } : { bpAfter: "released" as const }), bpBlockedAt: undefined };
    });
    if (!written) return;
    released++;
    await publishEvent(core.broker, { kind: "bp_resumed", dagId, stepId, bpPosition: position, bpLabels: [label] });
  };
  for (const id of blockedAtBefore(state)) if (state.steps.get(id)!.breakBefore.includes(label)) await release(id, "before");
  for (const id of holdingAtAfter(state)) if (state.steps.get(id)!.breakAfter.includes(label)) await release(id, "after");
  await publishEvent(core.broker, { kind: "resumed", dagId, stepId: dagId });
  return released;
}

/**
 * The DAG's breakpoints: one entry per declared position, with whether it is armed, blocked now or
 * released, since when, and (after-breakpoints) which steps wait behind it.
 * @throws EbindError `invalid_argument` for a malformed id; WorkflowError `dag_not_found`.
 */
export async function listBreakpoints(core: WorkflowCore, dagId: string): Promise<BreakpointInfo[]> {
  return computeBreakpoints((await loadOrThrow(core, dagId)).state);
}
