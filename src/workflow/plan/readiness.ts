/**
 * The readiness predicate and the sets derived from it (reference §3.12), recomputed from durable
 * state on every evaluation. Pure.
 * @module
 */
import { isTerminal, type StepRecord } from "../model/records.js";
import { sortIds, type DagState } from "./state.js";

function armed(state: DagState): ReadonlySet<string> {
  return new Set(state.meta.activeBreakpoints ?? []);
}

function anyArmed(labels: readonly string[], active: ReadonlySet<string>): boolean {
  return labels.some((l) => active.has(l));
}

/**
 * Whether a step is gated by its before-breakpoint (reference §3.12 item 3, §3.19): it has
 * `breakBefore` labels, `bpBefore` is not `released`, and one of its labels is in the DAG's active
 * breakpoints. The advisory `blocked` mark does not matter.
 */
export function isBeforeGated(step: StepRecord, state: DagState): boolean {
  return step.breakBefore.length > 0 && step.bpBefore !== "released" && anyArmed(step.breakBefore, armed(state));
}

/**
 * Whether a step holds its dependents at its after-breakpoint (reference §3.12 item 5): it is `done`,
 * has `breakAfter` labels, `bpAfter` is not `released`, and one of its labels is armed.
 */
export function isAfterHolding(step: StepRecord, state: DagState): boolean {
  return step.status === "done" && step.breakAfter.length > 0 && step.bpAfter !== "released" && anyArmed(step.breakAfter, armed(state));
}

/**
 * Whether a step waits for a signal (reference §3.12 item 4): some name in `waitSignals` has no record
 * in `state.signals` (keyed by raw name).
 */
export function isSignalGated(step: StepRecord, state: DagState): boolean {
  return step.waitSignals.some((name) => !state.signals.has(name));
}

/**
 * Whether a step's dependencies are satisfied (reference §3.12 item 5): every required and optional
 * dependency exists, is terminal (failed, skipped and canceled count), and does not hold at its
 * after-breakpoint.
 */
export function depsSatisfied(step: StepRecord, state: DagState): boolean {
  const ok = (id: string): boolean => {
    const dep = state.steps.get(id);
    return dep !== undefined && isTerminal(dep.status) && !isAfterHolding(dep, state);
  };
  return step.deps.every(ok) && step.optionalDeps.every(ok);
}

/**
 * The ids of the steps ready to run, sorted (reference §3.12): pending, not held, not
 * before-breakpoint-gated, not signal-gated, dependencies satisfied.
 */
export function readyToRun(state: DagState): string[] {
  const out: string[] = [];
  for (const step of state.steps.values()) {
    if (step.status !== "pending" || step.held) continue;
    if (isBeforeGated(step, state) || isSignalGated(step, state) || !depsSatisfied(step, state)) continue;
    out.push(step.stepId);
  }
  return sortIds(out);
}

/**
 * The ids of the steps waiting at their before-breakpoint, sorted (reference §3.12 derived sets):
 * pending, before-gated, dependencies satisfied (held and signal state ignored).
 */
export function blockedAtBefore(state: DagState): string[] {
  const out: string[] = [];
  for (const step of state.steps.values()) {
    if (step.status === "pending" && isBeforeGated(step, state) && depsSatisfied(step, state)) out.push(step.stepId);
  }
  return sortIds(out);
}

/** The ids of the steps holding at their after-breakpoint, sorted (reference §3.12 derived sets). */
export function holdingAtAfter(state: DagState): string[] {
  const out: string[] = [];
  for (const step of state.steps.values()) if (isAfterHolding(step, state)) out.push(step.stepId);
  return sortIds(out);
}

/**
 * The ids of the steps waiting for a signal, sorted (reference §3.12 derived sets): pending,
 * signal-gated, dependencies satisfied.
 */
export function waitingOnSignals(state: DagState): string[] {
  const out: string[] = [];
  for (const step of state.steps.values()) {
    if (step.status === "pending" && isSignalGated(step, state) && depsSatisfied(step, state)) out.push(step.stepId);
  }
  return sortIds(out);
}
