/**
 * Listing DAGs for operators (reference §4.2 `dag ls`): filters on what the meta holds (status,
 * labels, age) read from the metas alone, newest first, then limited; step counts, blocked
 * breakpoints and steps waiting on signals computed only when asked, in one pass over the bucket.
 * @module
 */
import type { DagMeta, SignalRecord, StepRecord } from "../model/records.js";
import { computeBreakpoints, computeSignals, countBlocked, countWaitingSteps, dagState } from "../plan/index.js";
import type { WorkflowCore } from "../store/core.js";
import { scanDagRecords } from "./records.js";

/** How many steps of a DAG are in each status, plus what holds it. */
export interface StepCounts {
  readonly total: number;
  readonly pending: number;
  readonly running: number;
  readonly done: number;
  readonly failed: number;
  readonly skipped: number;
  readonly canceled: number;
  /** Breakpoint positions blocking the DAG now (reference §3.19). */
  readonly blockedBreakpoints: number;
  /** Steps waiting for a signal that has not arrived (reference §3.21). */
  readonly waitingOnSignals: number;
}

/** One row of {@link listDags}. */
export interface DagSummary {
  readonly meta: DagMeta;
  /** Present when the listing was asked for counts. */
  readonly counts?: StepCounts | undefined;
}

/** Options of {@link listDags}; every filter is ANDed. */
export interface ListDagsOptions {
  /** Only DAGs in this status, compared case-insensitively (`Paused` = `paused`). */
  readonly status?: string | undefined;
  /** Only DAGs carrying every one of these labels. */
  readonly labels?: readonly string[] | undefined;
  /** Only DAGs created at or after this time. */
  readonly createdAfter?: Date | undefined;
  /** At most this many rows, newest first; 0 or absent = all. */
  readonly limit?: number | undefined;
  /** Compute {@link StepCounts} for every row returned. Default false (metas only). */
  readonly counts?: boolean | undefined;
  /** Only DAGs with a blocked breakpoint (implies counts). */
  readonly breakpointBlocked?: boolean | undefined;
  /** Only DAGs with a step waiting on a signal (implies counts). */
  readonly signalWaiting?: boolean | undefined;
  /** Called as records are read: `read` so far out of about `total`, for progress bars. */
  readonly onProgress?: ((read: number, total: number) => void) | undefined;
}

function compareNewestFirst(a: DagMeta, b: DagMeta): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * DAGs newest first with the filters applied (reference §4.2 `dag ls`). Status, labels and age are
 * judged from the metas alone (one pass over `*.meta`); counts need a second pass over the step and
 * signal records of the bucket, made only when asked.
 */
export async function listDags(core: WorkflowCore, options: ListDagsOptions = {}): Promise<DagSummary[]> {
  const status = options.status?.toLowerCase();
  const labels = options.labels ?? [];
  const after = options.createdAfter?.getTime();
  let metas: DagMeta[] = [];
  let read = 0;
  await scanDagRecords(core, "*.meta", (c) => {
    options.onProgress?.(++read, read);
    if (c.type !== "meta" || c.meta === null) return;
    const m = c.meta;
    if (status !== undefined && status !== "" && m.status.toLowerCase() !== status) return;
    if (after !== undefined && m.createdAt.getTime() < after) return;
    if (labels.length > 0 && !labels.every((l) => m.labels?.includes(l))) return;
    metas.push(m);
  });
  metas.sort(compareNewestFirst);
  const needsCounts = options.counts === true || options.breakpointBlocked === true || options.signalWaiting === true;
  const limit = options.limit ?? 0;
  // The state filters need counts for every candidate; otherwise only the rows kept are counted.
  if (!options.breakpointBlocked && !options.signalWaiting && limit > 0) metas = metas.slice(0, limit);
  if (!needsCounts) return metas.map((meta) => ({ meta }));
  // Nothing to count: skip the pass over every record (a filter that matched nothing).
  if (metas.length === 0) return [];

  const wanted = new Map(metas.map((m) => [m.id, { meta: m, steps: [] as StepRecord[], signals: [] as SignalRecord[] }]));
  const total = (await core.broker.streamState(`KV_${core.store.kv.name}`))?.messages ?? 0;
  const scanKey = wanted.size === 1 ? `${metas[0]!.id}.>` : ">";
  await scanDagRecords(core, scanKey, (c) => {
    options.onProgress?.(++read, Math.max(total, read));
    if (c.type === "step" && c.step !== null) wanted.get(c.dagId)?.steps.push(c.step);
    else if (c.type === "signal" && c.signal !== null) wanted.get(c.dagId)?.signals.push(c.signal);
  });
  let rows = metas.map((meta) => {
    const w = wanted.get(meta.id)!;
    return { meta, counts: countSteps(w.meta, w.steps, w.signals) };
  });
  if (options.breakpointBlocked) rows = rows.filter((r) => r.counts.blockedBreakpoints > 0);
  if (options.signalWaiting) rows = rows.filter((r) => r.counts.waitingOnSignals > 0);
  return limit > 0 ? rows.slice(0, limit) : rows;
}

function countSteps(meta: DagMeta, steps: StepRecord[], signals: SignalRecord[]): StepCounts {
  const by = { pending: 0, running: 0, done: 0, failed: 0, skipped: 0, canceled: 0 };
  for (const s of steps) by[s.status]++;
  const holdsSomething = steps.some((s) => s.breakBefore.length > 0 || s.breakAfter.length > 0 || s.waitSignals.length > 0);
  if (!holdsSomething) return { total: steps.length, ...by, blockedBreakpoints: 0, waitingOnSignals: 0 };
  const state = dagState(meta, steps, signals);
  return {
    total: steps.length,
    ...by,
    blockedBreakpoints: countBlocked(computeBreakpoints(state)),
    waitingOnSignals: countWaitingSteps(computeSignals(state)),
  };
}
