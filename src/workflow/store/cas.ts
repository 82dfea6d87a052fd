/**
 * Compare-and-set on one step record (reference §3.16): start from a record and revision already in
 * hand — no read when they are current; a KV read may lag a replica — and re-read only after a
 * conflict, up to {@link CAS_ATTEMPTS} times.
 * @module
 */
import { CAS_ATTEMPTS } from "./core.js";
import { WorkflowError } from "../model/errors.js";
import type { StepRecord } from "../model/records.js";
import type { DagStore, Versioned } from "./store.js";

/** What to do with the record as it is now: write a new one, keep it as it is, or give up. */
export type StepDecision = StepRecord | "keep" | undefined;

/** Options of {@link casStep}. */
export interface CasStepOptions {
  /** Wait `pauseMs × attempt` between conflicting attempts. @default 0 */
  readonly pauseMs?: number | undefined;
}

/**
 * Applies `decide` to the step record until its write wins.
 * @param start the record and revision in hand, or null to read first.
 * @returns the record as written (or kept) with its revision; undefined when `decide` gave up or
 *   the step does not exist.
 * @throws WorkflowError `stale_revision` when every attempt lost a race; store errors as they come.
 */
export async function casStep(
  store: DagStore,
  dagId: string,
  stepId: string,
  start: Versioned<StepRecord> | null,
  decide: (current: StepRecord) => StepDecision,
  options: CasStepOptions = {},
): Promise<Versioned<StepRecord> | undefined> {
  let current = start ?? (await store.getStep(dagId, stepId));
  for (let attempt = 1; ; attempt++) {
    if (!current) return undefined;
    const next = decide(current.value);
    if (next === undefined) return undefined;
    if (next === "keep") return current;
    try {
      return { value: next, revision: await store.updateStep(next, current.revision) };
    } catch (err) {
      if (!(err instanceof WorkflowError && err.code === "stale_revision") || attempt >= CAS_ATTEMPTS) throw err;
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs! * attempt));
      current = await store.getStep(dagId, stepId);
    }
  }
}
