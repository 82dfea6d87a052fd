/**
 * Listing DAGs for operators (reference §4.2 `dag ls`): filters on what the meta holds (status,
 * labels, age) read from the metas alone, newest first, then limited; step counts, blocked
 * breakpoints and steps waiting on signals computed only when asked, in one pass over the bucket.
 * @module
 */
import type { DagMeta, SignalRecord, StepRecord } from "../model/records.js";
import { computeBreakpoints, computeSignals, countBlocked, countWaitingSteps, dagState } from "../plan/index.js";
import type { WorkflowCore } from "../store/core.js";
import type { KvEntry } from "../../broker/port.js";
import { decodeDagChange, scanDagRecords, scanEntries } from "./records.js";

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
  /** Only DAGs whose id contains this text, compared case-insensitively (a search box). */
  readonly idContains?: string | undefined;
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
 * judged from the metas alone (one pass over `*.meta`); counts, made only when asked, read the step
 * records (and signals, where a step waits for one) of the listed DAGs: per DAG when they are few,
 * else in one pass over the bucket's step records that decodes only those of listed DAGs.
 */
export async function listDags(core: WorkflowCore, options: ListDagsOptions = {}): Promise<DagSummary[]> {
  const status = options.status?.toLowerCase();
  const labels = options.labels ?? [];
  const after = options.createdAfter?.getTime();
  const idPart = options.idContains?.toLowerCase();
  let metas: DagMeta[] = [];
  let read = 0;
  await scanDagRecords(core, "*.meta", (c) => {
    options.onProgress?.(++read, read);
    if (c.type !== "meta" || c.meta === null) return;
    const m = c.meta;
    if (status !== undefined && status !== "" && m.status.toLowerCase() !== status) return;
    if (after !== undefined && m.createdAt.getTime() < after) return;
    if (idPart !== undefined && idPart !== "" && !m.id.toLowerCase().includes(idPart)) return;
    if (labels.length > 0 && !labels.every((l) => m.labels?.includes(l))) return;
    metas.push(m);
  });
  metas.sort(compareNewestFirst);
  const needsCounts = options.counts === true || options.breakpointBlocked === true || options.signalWaiting === true;
  const limit = options.limit ?? 0;
  // The state filters need counts for every candidate; otherwise only the rows kept are counted.
  if (!options.breakpointBlocked && !options.signalWaiting && limit > 0) metas = metas.slice(0, limit);
  if (!needsCounts) return metas.map((meta) => ({ meta }));
  let rows = await countDagSteps(core, metas, { onProgress: options.onProgress, alreadyRead: read });
  if (options.breakpointBlocked) rows = rows.filter((r) => r.counts.blockedBreakpoints > 0);
  if (options.signalWaiting) rows = rows.filter((r) => r.counts.waitingOnSignals > 0);
  return limit > 0 ? rows.slice(0, limit) : rows;
}

/**
 * Step counts (with blocked breakpoints and signal waits) of the given DAGs, in their order: per
 * DAG when they are few, else in one pass over the bucket's step records that decodes only those of
 * these DAGs. For a caller that filtered the metas itself (the dashboard counts only the rows it
 * shows). `onProgress` gets records read so far (counting from `alreadyRead`, default 0) out of
 * about the bucket's size.
 */
export async function countDagSteps(
  core: WorkflowCore,
  metas: readonly DagMeta[],
  options: { readonly onProgress?: ((read: number, total: number) => void) | undefined; readonly alreadyRead?: number | undefined } = {},
): Promise<Array<DagSummary & { readonly counts: StepCounts }>> {
  if (metas.length === 0) return []; // nothing to count: no pass over the bucket
  let read = options.alreadyRead ?? 0;
  const wanted = new Map(metas.map((m) => [m.id, { meta: m, steps: [] as CountedStep[], signals: [] as SignalRecord[] }]));
  const total = (await core.broker.streamState(`KV_${core.store.kv.name}`))?.messages ?? 0;
  const progress = (): void => options.onProgress?.(++read, Math.max(total, read));
  const keep = (e: KvEntry): void => {
    progress();
    const brief = briefStep(e);
    if (brief) {
      wanted.get(brief.dagId)?.steps.push(brief);
      return;
    }
    const c = decodeDagChange(e);
    if (c.type === "step" && c.step !== null) wanted.get(c.dagId)?.steps.push(c.step);
    else if (c.type === "signal" && c.signal !== null) wanted.get(c.dagId)?.signals.push(c.signal);
  };
  const signalsWanted = (id: string): boolean => wanted.get(id)!.steps.some((s) => s.waitSignals.length > 0);
  if (wanted.size <= PER_DAG_SCANS_UP_TO) {
    // A few DAGs: read each one's records, not the whole bucket.
    await inBatches([...wanted.keys()], SCANS_IN_FLIGHT, async (id) => {
      for (const e of await core.store.kv.entries(`${id}.step.*`)) keep(e);
      if (signalsWanted(id)) for (const e of await core.store.kv.entries(`${id}.signal.*`)) keep(e);
    });
  } else {
    // Many: one pass over every step record, decoding only those of listed DAGs (the key names the DAG).
    const listed = (e: KvEntry): void => (wanted.has(dagIdOfKey(e.key)) ? keep(e) : progress());
    await scanEntries(core, "*.step.*", listed);
    if ([...wanted.keys()].some(signalsWanted)) await scanEntries(core, "*.signal.*", listed);
  }
  return metas.map((meta) => {
    const w = wanted.get(meta.id)!;
    return { meta, counts: countSteps(w.meta, w.steps, w.signals) };
  });
}

/**
 * Up to this many listed DAGs, counts read each DAG's records; beyond, one pass over the bucket. On
 * nats-server 2.9 a per-DAG read costs the server a walk of the whole bucket's subjects (10 ms at
 * 60,000 records), so the pass wins early.
 */
const PER_DAG_SCANS_UP_TO = 8;
/** Per-DAG reads in flight at once. */
const SCANS_IN_FLIGHT = 16;

function dagIdOfKey(key: string): string {
  const dot = key.indexOf(".");
  return dot < 0 ? key : key.slice(0, dot);
}

async function inBatches<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}

const utf8 = new TextDecoder();
const STEP_STATUSES = new Set<string>(["pending", "running", "done", "failed", "skipped", "canceled"]);

/**
 * The part of a step record counting needs, read with the native JSON parser — when that is all
 * there is to know: a step with no breakpoints and no signal waits. Anything else (or anything
 * unexpected) returns undefined and goes through the full decoder.
 */
function briefStep(e: KvEntry): BriefStep | undefined {
  if (!e.key.includes(".step.")) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(utf8.decode(e.value));
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null) return undefined;
  const d = doc as Record<string, unknown>;
  const none = (v: unknown): boolean => v === undefined || v === null || (Array.isArray(v) && v.length === 0);
  if (typeof d.dag_id !== "string" || typeof d.status !== "string" || !STEP_STATUSES.has(d.status)) return undefined;
  if (!none(d.break_before) || !none(d.break_after) || !none(d.wait_signals)) return undefined;
  return { dagId: d.dag_id, status: d.status as StepRecord["status"], breakBefore: [], breakAfter: [], waitSignals: [], entry: e };
}

/** What counting a step that holds nothing needs, with its entry for a full decode if the DAG holds something. */
interface BriefStep extends Pick<StepRecord, "status" | "breakBefore" | "breakAfter" | "waitSignals"> {
  readonly dagId: string;
  readonly entry: KvEntry;
}

/** A full step record, or the brief form of one that holds nothing (no breakpoints, no signal waits). */
type CountedStep = StepRecord | BriefStep;

/** The full record; undefined for one the decoder refuses (left out, as a broken record is everywhere in listings). */
function fullStep(s: CountedStep): StepRecord | undefined {
  if (!("entry" in s)) return s;
  const c = decodeDagChange(s.entry);
  return c.type === "step" && c.step !== null ? c.step : undefined;
}

function countSteps(meta: DagMeta, steps: CountedStep[], signals: SignalRecord[]): StepCounts {
  const by = { pending: 0, running: 0, done: 0, failed: 0, skipped: 0, canceled: 0 };
  for (const s of steps) by[s.status]++;
  const holdsSomething = steps.some((s) => s.breakBefore.length > 0 || s.breakAfter.length > 0 || s.waitSignals.length > 0);
  if (!holdsSomething) return { total: steps.length, ...by, blockedBreakpoints: 0, waitingOnSignals: 0 };
  // The projections need every step of the DAG (holders, dependencies): decode the brief ones now.
  const state = dagState(meta, steps.map(fullStep).filter((s) => s !== undefined), signals);
  return {
    total: steps.length,
    ...by,
    blockedBreakpoints: countBlocked(computeBreakpoints(state)),
    waitingOnSignals: countWaitingSteps(computeSignals(state)),
  };
}
