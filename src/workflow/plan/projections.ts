/**
 * What an operator sees of a DAG's gates (reference §3.19 `ComputeBreakpoints`, §3.21
 * `ComputeSignals`, §3.27 blockers), and per step what it waits on. Pure.
 * @module
 */
import type { SignalRecord, StepRecord } from "../model/records.js";
import { isTerminal } from "../model/records.js";
import { isAfterHolding, isBeforeGated, isSignalGated, depsSatisfied } from "./readiness.js";
import { sortIds, type DagState } from "./state.js";

/** One breakpoint position of one step (reference §2.6.12). */
export interface BreakpointInfo {
  readonly stepId: string;
  readonly position: "before" | "after";
  /** The position's labels as declared. */
  readonly labels: readonly string[];
  /** Whether one of its labels is armed for this run. */
  readonly armed: boolean;
  /** `blocked` while it stops the DAG now, `released` once released; absent otherwise. */
  readonly state?: "blocked" | "released" | undefined;
  /** When it was marked blocked. */
  readonly blockedSince?: Date | undefined;
  /** After-breakpoints that block: the pending steps waiting behind it, sorted. */
  readonly holding?: readonly string[] | undefined;
}

/** One signal name of a DAG (reference §2.6.12). */
export interface SignalInfo {
  readonly name: string;
  readonly delivered: boolean;
  readonly deliveredAt?: Date | undefined;
  /** The delivered payload, raw JSON. */
  readonly payload?: string | undefined;
  /** Pending steps waiting for it (undelivered only; none for a finished DAG), sorted. */
  readonly waiting?: readonly string[] | undefined;
}

/**
 * What a step marked running that no worker has started yet waits on: its task is queued. It may
 * wait for a worker holding its target, or for its task name to be resumed (`pauseTask`).
 */
export interface QueuedInfo {
  /** The claim its task is targeted at, if any: only a worker holding it takes the task. */
  readonly target?: string | undefined;
  /** Its task name is paused: workers park the task until the name is resumed. */
  readonly taskPaused: boolean;
}

/** What a pending step waits on. Empty lists and `false` mean that gate is open. */
export interface StepWaits {
  /** Dependencies (required or optional) not finished yet. */
  readonly deps: readonly string[];
  /** Finished dependencies holding it at their after-breakpoint. */
  readonly afterBreakpoints: readonly string[];
  /** Held by a pause of the DAG. */
  readonly held: boolean;
  /** Stopped at its own armed before-breakpoint (not released). */
  readonly breakpoint: boolean;
  /** Signals it waits for that have not been delivered. */
  readonly signals: readonly string[];
}

function finished(state: DagState): boolean {
  const s = state.meta.status;
  return s === "done" || s === "failed" || s === "canceled";
}

/**
 * Every declared breakpoint position, sorted by step id, before first (reference §3.19). The state
 * is computed live: `blocked` when the step stops the DAG now (never for a finished DAG), from the
 * record only when `released`.
 */
export function computeBreakpoints(state: DagState): BreakpointInfo[] {
  const armedSet = new Set(state.meta.activeBreakpoints ?? []);
  const done = finished(state);
  const steps = sortIds([...state.steps.keys()]).map((id) => state.steps.get(id)!);
  const out: BreakpointInfo[] = [];
  for (const step of steps) {
    const armed = (labels: readonly string[]): boolean => labels.some((l) => armedSet.has(l));
    if (step.breakBefore.length > 0) {
      const blocked = !done && step.status === "pending" && isBeforeGated(step, state) && depsSatisfied(step, state);
      out.push({
        stepId: step.stepId,
        position: "before",
        labels: step.breakBefore,
        armed: armed(step.breakBefore),
        state: step.bpBefore === "released" ? "released" : blocked ? "blocked" : undefined,
        blockedSince: blocked ? step.bpBlockedAt : undefined,
      });
    }
    if (step.breakAfter.length > 0) {
      const blocked = !done && isAfterHolding(step, state);
      out.push({
        stepId: step.stepId,
        position: "after",
        labels: step.breakAfter,
        armed: armed(step.breakAfter),
        state: step.bpAfter === "released" ? "released" : blocked ? "blocked" : undefined,
        blockedSince: blocked ? step.bpBlockedAt : undefined,
        holding: blocked ? holders(state, step.stepId) : undefined,
      });
    }
  }
  return out;
}

function holders(state: DagState, stepId: string): string[] {
  const out: string[] = [];
  for (const s of state.steps.values()) {
    if (s.status === "pending" && (s.deps.includes(stepId) || s.optionalDeps.includes(stepId))) out.push(s.stepId);
  }
  return sortIds(out);
}

/** How many breakpoint positions are blocked now. */
export function countBlocked(infos: readonly BreakpointInfo[]): number {
  return infos.filter((i) => i.state === "blocked").length;
}

/**
 * Every signal name of the DAG — delivered or declared by a step — sorted (reference §3.21).
 * Undelivered names list the pending steps declaring them, whatever their dependencies; none for a
 * finished DAG.
 */
export function computeSignals(state: DagState): SignalInfo[] {
  const names = new Set<string>(state.signals.keys());
  for (const s of state.steps.values()) for (const n of s.waitSignals) names.add(n);
  const done = finished(state);
  return [...names].sort().map((name): SignalInfo => {
    const record: SignalRecord | undefined = state.signals.get(name);
    if (record) return { name, delivered: true, deliveredAt: record.deliveredAt, payload: record.payload };
    const waiting = done ? [] : sortIds([...state.steps.values()].filter((s) => s.status === "pending" && s.waitSignals.includes(name)).map((s) => s.stepId));
    return { name, delivered: false, waiting: waiting.length > 0 ? waiting : undefined };
  });
}

/** How many distinct steps wait for some signal. */
export function countWaitingSteps(infos: readonly SignalInfo[]): number {
  return new Set(infos.flatMap((i) => i.waiting ?? [])).size;
}

/** What a pending step waits on; undefined for a step that is not pending. */
export function stepWaits(state: DagState, step: StepRecord): StepWaits | undefined {
  if (step.status !== "pending") return undefined;
  const deps: string[] = [];
  const afterBreakpoints: string[] = [];
  for (const id of [...step.deps, ...step.optionalDeps]) {
    const dep = state.steps.get(id);
    if (dep === undefined || !isTerminal(dep.status)) deps.push(id);
    else if (isAfterHolding(dep, state)) afterBreakpoints.push(id);
  }
  return {
    deps: [...new Set(deps)],
    afterBreakpoints: [...new Set(afterBreakpoints)],
    held: step.held,
    breakpoint: isBeforeGated(step, state),
    signals: isSignalGated(step, state) ? step.waitSignals.filter((n) => !state.signals.has(n)) : [],
  };
}
