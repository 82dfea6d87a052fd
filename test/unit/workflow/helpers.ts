/** Builders of records for the pure workflow tests. */
import { encodeArgs, type ArgSlot } from "../../../src/workflow/model/codec.js";
import { dagState, type DagState } from "../../../src/workflow/plan/index.js";
import type { DagMeta, DagStatus, SignalRecord, StepRecord } from "../../../src/workflow/model/records.js";

export const T0 = new Date("2026-05-01T10:00:00Z");
export const T1 = new Date("2026-05-01T10:01:00Z");

/** A pending step with no deps; override anything. */
export function step(stepId: string, over: Partial<StepRecord> = {}): StepRecord {
  return {
    dagId: "d1",
    stepId,
    fnName: `main.${stepId}`,
    argsJson: "[]",
    deps: [],
    optionalDeps: [],
    status: "pending",
    attempt: 0,
    optional: false,
    held: false,
    breakBefore: [],
    breakAfter: [],
    waitSignals: [],
    addedAt: T0,
    ...over,
  };
}

export function meta(over: Partial<DagMeta> = {}): DagMeta {
  return { id: "d1", status: "running", createdAt: T0, ...over };
}

export function signal(name: string, payload = "null"): SignalRecord {
  return { dagId: "d1", name, payload, deliveredAt: T0 };
}

export function state(steps: StepRecord[], opts: { status?: DagStatus; active?: string[]; signals?: SignalRecord[] } = {}): DagState {
  return dagState(meta({ status: opts.status ?? "running", activeBreakpoints: opts.active }), steps, opts.signals ?? []);
}

export const ref = (stepId: string): ArgSlot => ({ kind: "ref", ref: { stepId, mode: "required" } });
export const refOr = (stepId: string, defaultJson?: string): ArgSlot => ({ kind: "ref", ref: { stepId, mode: "or_default", defaultJson } });
export const lit = (raw: string): ArgSlot => ({ kind: "literal", raw });
export const sig = (name: string): ArgSlot => ({ kind: "signal", signal: { name } });
export const args = (...slots: ArgSlot[]): string => encodeArgs(slots);
