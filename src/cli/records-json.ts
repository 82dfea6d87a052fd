/**
 * The JSON shapes of workflow records and projections that ebctl prints (reference §2.6.6, §2.6.7,
 * §2.6.12, §4.2): records in their wire form (as ebind for Go prints them), never re-parsed.
 * @module
 */
import { formatTime } from "../task/index.js";
import { encodeDagMeta, encodeStepRecord, type BreakpointInfo, type DagDebug, type DagMeta, type SignalInfo, type StepRecord } from "../workflow/index.js";
import { compactJson, RawJson } from "./json.js";

/** A DAG meta as stored (§2.6.6). */
export function metaJson(meta: DagMeta): RawJson {
  return new RawJson(encodeDagMeta(meta));
}

/** A step record as stored (§2.6.7), with `extra` members appended (e.g. `revision`). */
export function stepJson(record: StepRecord, extra: Record<string, unknown> = {}): RawJson {
  const base = encodeStepRecord(record);
  const more = compactJson(extra);
  return new RawJson(more === "{}" ? base : `${base.slice(0, -1)},${more.slice(1)}`);
}

/** `BreakpointInfo` (§2.6.12): `{step_id, position, labels, armed, state?, blocked_since, holding?}`. */
export function breakpointJson(b: BreakpointInfo): Record<string, unknown> {
  return {
    step_id: b.stepId,
    position: b.position,
    labels: b.labels,
    armed: b.armed,
    state: b.state,
    blocked_since: formatTime(b.blockedSince),
    holding: b.holding !== undefined && b.holding.length > 0 ? b.holding : undefined,
  };
}

/** `SignalInfo` (§2.6.12): `{name, delivered, delivered_at, payload?, waiting?}`. */
export function signalJson(s: SignalInfo): Record<string, unknown> {
  return {
    name: s.name,
    delivered: s.delivered,
    delivered_at: formatTime(s.deliveredAt),
    payload: s.payload === undefined ? undefined : new RawJson(s.payload),
    waiting: s.waiting !== undefined && s.waiting.length > 0 ? s.waiting : undefined,
  };
}

function nanos(ms: number | undefined): number {
  return ms === undefined ? 0 : Math.round(ms * 1e6);
}

/** Go's nil slice: `null` when empty. */
function list<T>(xs: readonly T[] | undefined): readonly T[] | null {
  return xs === undefined || xs.length === 0 ? null : xs;
}

/**
 * The `DAGDebug` snapshot with Go's field names (reference §4.2 `dag get`, §8.3 item 27): `Meta`,
 * `Steps` (each step record's fields plus `QueueDuration`, `ExecDuration` in ns, `BPNote`,
 * `SigNote`), `Counts` (statuses present), `TotalDuration` (ns), `Blockers` (or null),
 * `Breakpoints`, `Signals` (null when none, as Go's nil slices).
 */
export function debugJson(d: DagDebug): Record<string, unknown> {
  const counts: Record<string, number> = {};
  for (const k of Object.keys(d.counts).sort()) {
    const n = d.counts[k as keyof typeof d.counts];
    if (n > 0) counts[k] = n;
  }
  return {
    Meta: metaJson(d.meta),
    Steps: d.steps.map((s) => stepJson(s.record, { QueueDuration: nanos(s.queueMs), ExecDuration: nanos(s.execMs), BPNote: s.bpNote, SigNote: s.sigNote })),
    Counts: counts,
    TotalDuration: nanos(d.totalMs),
    Blockers: list(d.blockers.map((b) => ({ StepID: b.stepId, WaitingOn: list(b.waitingOn), GatedBy: list(b.gatedBy), WaitingSignals: list(b.waitingSignals) }))),
    Breakpoints: list(d.breakpoints.map(breakpointJson)),
    Signals: list(d.signals.map(signalJson)),
  };
}
