/**
 * DAG finalisation and pause predicates (reference §3.14, §3.18). Pure.
 * @module
 */
import type { DagStatus } from "../model/records.js";
import { isTerminal } from "../model/records.js";
import type { DagState } from "./state.js";

/**
 * Whether the DAG is half-written: its submit failed after writing the meta and before writing
 * every step record (the meta's `submitSteps` says how many it meant to write). Such a DAG is never
 * advanced: starting a step of it would run part of a DAG its submitter was told had failed.
 */
export function halfWritten(state: DagState): boolean {
  const expected = state.meta.submitSteps;
  return expected !== undefined && state.steps.size < expected;
}

/** Whether every step is terminal; `false` for a DAG without steps (reference §3.14). */
export function allStepsTerminal(state: DagState): boolean {
  if (state.steps.size === 0) return false;
  for (const s of state.steps.values()) if (!isTerminal(s.status)) return false;
  return true;
}

/** Whether some step is `running` (reference §3.18: a pausing DAG becomes paused when none is). */
export function hasInFlightSteps(state: DagState): boolean {
  for (const s of state.steps.values()) if (s.status === "running") return true;
  return false;
}

/**
 * The status a finished DAG ends with (reference §3.14 `DeriveFinalStatus`): `failed` when a
 * non-optional step failed or was skipped, else `done` (canceled steps are not failures).
 */
export function deriveFinalStatus(state: DagState): "done" | "failed" {
  for (const s of state.steps.values()) {
    if (!s.optional && (s.status === "failed" || s.status === "skipped")) return "failed";
  }
  return "done";
}

/**
 * Whether the DAG has finished, and with what status (reference §3.14 `Terminal`, the event path):
 * - not every step terminal (or no steps) → `{ running, false }`;
 * - meta `canceled` → `{ canceled, true }`;
 * - meta `pausing` or `paused` → `{ running, false }`;
 * - a non-optional step failed or skipped → `{ failed, true }`;
 * - otherwise `{ done, true }`.
 */
export function terminal(state: DagState): { status: DagStatus; final: boolean } {
  if (!allStepsTerminal(state)) return { status: "running", final: false };
  const meta = state.meta.status;
  if (meta === "canceled") return { status: "canceled", final: true };
  if (meta === "pausing" || meta === "paused") return { status: "running", final: false };
  return { status: deriveFinalStatus(state), final: true };
}

/** Whether the DAG may be paused: only a `running` DAG can (reference §3.18). */
export function canPause(state: DagState): boolean {
  return state.meta.status === "running";
}

/** Whether the DAG may be resumed: `paused` or `pausing` (reference §3.18). */
export function canResume(state: DagState): boolean {
  return state.meta.status === "paused" || state.meta.status === "pausing";
}
