/**
 * The debug report of a DAG (reference §3.27 `Debug` / `WriteDebug`): per-status counts, per-step
 * queue and run times, what each pending step is blocked by, the breakpoint and signal tables, and
 * the text layout an operator reads. Pure: the caller loads the state.
 * @module
 */
import type { DagMeta, StepRecord, StepStatus } from "../model/records.js";
import { isTerminal } from "../model/records.js";
import { computeBreakpoints, computeSignals, countBlocked, countWaitingSteps, stepWaits, type BreakpointInfo, type QueuedInfo, type SignalInfo } from "./projections.js";
import type { DagState } from "./state.js";

/** One step in the report. */
export interface StepDebug {
  readonly record: StepRecord;
  /** Started − added, in ms, when both are known. */
  readonly queueMs?: number | undefined;
  /** Finished − started, in ms, when both are known. */
  readonly execMs?: number | undefined;
  /** `bp:released`, `bp:blocked[…]`, `bp:holding[…]→{…}` (space-joined), or empty. */
  readonly bpNote: string;
  /** `sig:waiting[…]`, or empty. */
  readonly sigNote: string;
  /** For a running step no worker has started: what its queued task waits on. */
  readonly queued?: QueuedInfo | undefined;
}

/** A pending step and what blocks it (reference §3.27; a step stopped only by its own breakpoint or a hold is not listed). */
export interface StepBlocker {
  readonly stepId: string;
  /** Dependencies not finished. */
  readonly waitingOn: readonly string[];
  /** Finished dependencies holding it at their after-breakpoint. */
  readonly gatedBy: readonly string[];
  /** Signals not delivered. */
  readonly waitingSignals: readonly string[];
}

/** The report (reference §1.7.9 `DAGDebug`). */
export interface DagDebug {
  readonly meta: DagMeta;
  /** Sorted by when they were added, then id. */
  readonly steps: readonly StepDebug[];
  readonly counts: Readonly<Record<StepStatus, number>>;
  /** Last finish − creation, in ms, once every step is terminal. */
  readonly totalMs?: number | undefined;
  readonly blockers: readonly StepBlocker[];
  readonly breakpoints: readonly BreakpointInfo[];
  readonly signals: readonly SignalInfo[];
}

function span(from: Date | undefined, to: Date | undefined): number | undefined {
  return from !== undefined && to !== undefined ? to.getTime() - from.getTime() : undefined;
}

/**
 * Builds the report of a DAG from its state.
 * @param queued for running steps no worker has started, what their tasks wait on (read by the caller).
 */
export function debugDag(state: DagState, queued: ReadonlyMap<string, QueuedInfo> = new Map()): DagDebug {
  const records = [...state.steps.values()].sort((a, b) => a.addedAt.getTime() - b.addedAt.getTime() || (a.stepId < b.stepId ? -1 : a.stepId > b.stepId ? 1 : 0));
  const counts: Record<StepStatus, number> = { pending: 0, running: 0, done: 0, failed: 0, skipped: 0, canceled: 0 };
  for (const r of records) counts[r.status]++;
  const breakpoints = computeBreakpoints(state);
  const signals = computeSignals(state);
  const blockers: StepBlocker[] = [];
  const steps = records.map((record): StepDebug => {
    const waits = stepWaits(state, record);
    if (waits && (waits.deps.length > 0 || waits.afterBreakpoints.length > 0 || waits.signals.length > 0)) {
      blockers.push({ stepId: record.stepId, waitingOn: waits.deps, gatedBy: waits.afterBreakpoints, waitingSignals: waits.signals });
    }
    const bp = breakpoints.filter((b) => b.stepId === record.stepId);
    const bpNote = bp
      .map((b) => {
        if (b.state === "released") return "bp:released";
        if (b.state !== "blocked") return "";
        return b.position === "before" ? `bp:blocked[${b.labels.join(" ")}]` : `bp:holding[${b.labels.join(" ")}]→{${(b.holding ?? []).join(" ")}}`;
      })
      .filter((n) => n)
      .join(" ");
    const sigNote = waits && waits.signals.length > 0 ? `sig:waiting[${[...waits.signals].sort().join(" ")}]` : "";
    return { record, queueMs: span(record.addedAt, record.startedAt), execMs: span(record.startedAt, record.finishedAt), bpNote, sigNote, queued: queued.get(record.stepId) };
  });
  let totalMs: number | undefined;
  if (records.length > 0 && records.every((r) => isTerminal(r.status))) {
    const last = Math.max(...records.map((r) => r.finishedAt?.getTime() ?? 0));
    if (last > 0) totalMs = last - state.meta.createdAt.getTime();
  }
  return { meta: state.meta, steps, counts, totalMs, blockers, breakpoints, signals };
}

/**
 * A duration the way Go prints it (reference §3.27): `0s`; under a second `x.xms`; under a minute
 * `x.xxs`; else whole seconds `1m5s`, `2h0m3s`.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  const a = Math.abs(ms);
  if (a < 1) return `${sign}${(a * 1000).toFixed(1)}µs`;
  if (a < 1000) return `${sign}${a.toFixed(1)}ms`;
  if (a < 60_000) return `${sign}${(a / 1000).toFixed(2)}s`;
  const total = Math.floor(a / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${sign}${h > 0 ? `${h}h${m}m` : `${m}m`}${s}s`;
}

const GLYPHS: Readonly<Record<string, string>> = { done: "✓", failed: "✗", skipped: "⊘", canceled: "■", running: "▶", pending: "⋯" };

function list(items: readonly string[]): string {
  return `[${items.join(" ")}]`;
}

/** Pads rows of cells into aligned columns, two spaces apart (Go's tabwriter, as ebctl prints). */
function columns(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - [...cell].length))).join("  ").trimEnd());
}

/** The report as text (reference §3.27 `WriteDebug` layout). `now` sets the ages. */
export function formatDebug(debug: DagDebug, now: Date = new Date()): string {
  const { meta, counts } = debug;
  const lines: string[] = [];
  const age = (d: Date): string => formatDuration(Math.max(0, now.getTime() - d.getTime()));
  let header = `DAG ${meta.id}  [${meta.status.toUpperCase()}]`;
  header += `  created ${age(meta.createdAt)} ago`;
  if (meta.pausedAt) header += `  paused ${age(meta.pausedAt)} ago`;
  if (debug.totalMs !== undefined) header += `  total ${formatDuration(debug.totalMs)}`;
  const blocked = countBlocked(debug.breakpoints);
  if (blocked > 0) header += `  ⦿ ${blocked} at breakpoint`;
  const waiting = countWaitingSteps(debug.signals);
  if (waiting > 0) header += `  ⚑ ${waiting} waiting on signal`;
  lines.push(header);
  lines.push(
    `  steps: ${counts.done} done, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.canceled} canceled, ${counts.pending} pending, ${counts.running} running`,
  );
  if (meta.labels?.length) lines.push(`  labels: ${meta.labels.join(", ")}`);
  lines.push("");
  const rows = debug.steps.map((s) => {
    const r = s.record;
    const notes: string[] = [];
    if (r.optional) notes.push("optional");
    if (r.held) notes.push("held");
    if (r.attempt > 1) notes.push(`attempts=${r.attempt}`);
    if (r.workerId) notes.push(`worker=${r.workerId}`);
    if (r.errorKind) notes.push(`kind=${r.errorKind}`);
    if (s.bpNote) notes.push(s.bpNote);
    if (s.sigNote) notes.push(s.sigNote);
    if (s.queued) notes.push(`queued${s.queued.target ? ` target=${s.queued.target}` : ""}${s.queued.taskPaused ? " (task name paused)" : ""}`);
    if (r.status === "skipped" && !r.errorKind) notes.push("(cascade)");
    if (r.status === "canceled") notes.push("(canceled)");
    const dur = (ms: number | undefined): string => (ms === undefined ? "—" : formatDuration(ms));
    return [GLYPHS[r.status] ?? "?", r.stepId, r.status, `queue ${dur(s.queueMs)}`, `exec ${dur(s.execMs)}`, notes.join(" ")];
  });
  lines.push(...columns(rows, "  "));
  lines.push("");
  if (debug.blockers.length === 0) lines.push("  blockers: none");
  else {
    lines.push("  blockers:");
    for (const b of debug.blockers) {
      const parts: string[] = [];
      if (b.waitingOn.length) parts.push(`waiting on: ${list(b.waitingOn)}`);
      if (b.gatedBy.length) parts.push(`gated by after-bp: ${list(b.gatedBy)}`);
      if (b.waitingSignals.length) parts.push(`waiting on signal: ${list(b.waitingSignals)}`);
      lines.push(`    ${b.stepId} ${parts.join("  ")}`);
    }
  }
  if (debug.breakpoints.length > 0) {
    lines.push("  breakpoints:");
    for (const b of debug.breakpoints) {
      let line = `    ${b.stepId} ${b.position} ${list(b.labels)}  ${b.armed ? "armed" : "inactive"}`;
      if (b.state === "blocked") {
        line += `  ⦿ blocked${b.blockedSince ? ` ${age(b.blockedSince)} ago` : ""}`;
        if (b.holding?.length) line += `  holding ${list(b.holding)}`;
      } else if (b.state === "released") line += "  released";
      lines.push(line);
    }
  }
  if (debug.signals.length > 0) {
    lines.push("  signals:");
    for (const s of debug.signals) {
      let line = `    ${s.name}  ${s.delivered ? "delivered" : "awaited"}`;
      if (s.delivered && s.deliveredAt) line += ` ${age(s.deliveredAt)} ago`;
      if (s.waiting?.length) line += `  ⚑ waiting ${list(s.waiting)}`;
      lines.push(line);
    }
  }
  return lines.join("\n") + "\n";
}
