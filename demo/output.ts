/**
 * The demo's summary: what `--json` prints, and its human-readable form.
 * @module
 */
import type { Failure, FileStat } from "./hash.js";
import type { Duplicates } from "./report.js";
import type { StepRun } from "./handlers.js";

/** Everything the demo reports. `--json` prints exactly this. */
export interface Summary {
  readonly root: string;
  readonly backend: string;
  readonly dagId: string;
  /** Whether this run found the DAG already submitted and resumed it. */
  readonly resumed: boolean;
  /** Steps already done when this run started (resumed runs). */
  readonly stepsDoneAtStart: string[];
  /** The step handlers this process ran, in the order they returned. */
  readonly stepsRun: StepRun[];
  readonly workers: number;
  readonly concurrency: number;
  /** Hash steps (chunks of files). */
  readonly chunks: number;
  readonly files: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Bytes of the files that were read. */
  readonly totalBytes: number;
  readonly totalLines: number;
  /** Wall time of this run, from its start to the report. */
  readonly elapsedMs: number;
  /** Files hashed by this process per second of {@link elapsedMs}. */
  readonly filesPerSecond: number;
  readonly largest: FileStat[];
  readonly duplicates: Duplicates;
  /** Unreadable files: every one with `--json`, else those the report lists. */
  readonly failures: Failure[];
  /** Entries not hashed, with why (symlinks to directories, FIFOs…); `skippedCount` counts all. */
  readonly skipped: Array<{ path: string; reason: string }>;
  readonly skippedCount: number;
  /** Directories that could not be listed; `walkErrorCount` counts all. */
  readonly walkErrors: Array<{ path: string; message: string }>;
  readonly walkErrorCount: number;
  /** Every file's result, read back from the hash steps (`--json` only; empty otherwise). */
  readonly results: FileStat[];
}

/** `1536` → `"1.5 KiB"`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** How many entries of each list the text summary shows (the JSON has them all). */
const SHOWN = 20;
/** Duplicate groups, and paths per group, the text summary shows. */
const GROUPS_SHOWN = 10;
const PATHS_SHOWN = 4;

/** The human-readable summary. */
export function formatSummary(s: Summary): string {
  const hashedHere = s.stepsRun.reduce((n, r) => n + r.files, 0);
  const out: string[] = [];
  out.push(`root:        ${s.root}`);
  out.push(`backend:     ${s.backend}`);
  const chunks = `${s.chunks} hash chunk${s.chunks === 1 ? "" : "s"}`;
  out.push(`dag:         ${s.dagId} (${s.chunks + 2} steps: scan, ${chunks}, report)${s.resumed ? `, resumed with ${s.stepsDoneAtStart.length} of its steps already done` : ""}`);
  out.push(`workers:     ${s.workers} × concurrency ${s.concurrency}`);
  out.push(`files:       ${s.files} (${s.succeeded} ok, ${s.failed} unreadable)`);
  out.push(`total bytes: ${s.totalBytes} (${formatBytes(s.totalBytes)}), ${s.totalLines} lines`);
  out.push(`elapsed:     ${(s.elapsedMs / 1000).toFixed(2)} s; this run hashed ${hashedHere} files, ${s.filesPerSecond} files/s`);
  out.push("");
  out.push(`largest ${s.largest.length} files:`);
  for (const f of s.largest) out.push(`  ${formatBytes(f.bytes).padStart(10)}  ${f.path}`);
  out.push("");
  const d = s.duplicates;
  out.push(`identical content: ${d.groups} group${d.groups === 1 ? "" : "s"} of ${d.files} files; ${formatBytes(d.wastedBytes)} in the extra copies`);
  for (const g of d.listed.slice(0, GROUPS_SHOWN)) {
    out.push(`  ${g.count} × ${formatBytes(g.bytes)}  sha256 ${g.sha256.slice(0, 16)}…`);
    for (const p of g.paths.slice(0, PATHS_SHOWN)) out.push(`      ${p}`);
    if (g.count > PATHS_SHOWN) out.push(`      … and ${g.count - PATHS_SHOWN} more`);
  }
  if (d.groups > GROUPS_SHOWN) out.push(`  … and ${d.groups - GROUPS_SHOWN} more groups (--json lists ${d.listed.length})`);
  out.push("");
  out.push(`unreadable files: ${s.failed}`);
  for (const f of s.failures.slice(0, SHOWN)) out.push(`  ${f.path}: ${f.kind}: ${f.message}`);
  if (s.failed > SHOWN) out.push(`  … and ${s.failed - SHOWN} more (--json lists them all)`);
  if (s.skippedCount > 0) {
    out.push("");
    out.push(`not hashed: ${s.skippedCount}`);
    for (const k of s.skipped.slice(0, SHOWN)) out.push(`  ${k.path}: ${k.reason}`);
    if (s.skippedCount > SHOWN) out.push(`  … and ${s.skippedCount - SHOWN} more`);
  }
  if (s.walkErrorCount > 0) {
    out.push("");
    out.push(`directories that could not be read: ${s.walkErrorCount}`);
    for (const e of s.walkErrors.slice(0, SHOWN)) out.push(`  ${e.path}: ${e.message}`);
  }
  return out.join("\n") + "\n";
}
