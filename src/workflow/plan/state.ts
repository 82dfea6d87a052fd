/**
 * The pure view of one DAG that the state machine works on (reference §1.7.7 `DAGState`): its meta,
 * its step records by step id and its delivered signals by raw signal name. Functions of `plan/`
 * never mutate a state; they return new ones.
 * @module
 */
import type { DagMeta, SignalRecord, StepRecord } from "../model/records.js";

/** One DAG as last read from the store: meta, steps by id, signals by raw name. */
export interface DagState {
  readonly meta: DagMeta;
  readonly steps: ReadonlyMap<string, StepRecord>;
  readonly signals: ReadonlyMap<string, SignalRecord>;
}

/**
 * Builds a {@link DagState} from lists of records: steps keyed by `stepId`, signals by `name` (the
 * last record wins when one repeats).
 */
export function dagState(meta: DagMeta, steps: Iterable<StepRecord>, signals: Iterable<SignalRecord> = []): DagState {
  return {
    meta,
    steps: new Map([...steps].map((s) => [s.stepId, s] as const)),
    signals: new Map([...signals].map((s) => [s.name, s] as const)),
  };
}

/** Step ids in a stable order: code-unit order (the byte order of ids in the KV key charset). */
export function sortIds(ids: string[]): string[] {
  return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
