/**
 * The demo's output: the progress line on stderr and the summary (text or JSON) on stdout.
 * @module
 */
import type { FileStat } from "./handlers.js";

/** A task that failed: the file, the task id and the error as the producer received it. */
export interface Failure {
  readonly path: string;
  readonly taskId: string | undefined;
  readonly kind: string;
  readonly message: string;
}

/** A dead-letter entry of this run. */
export interface DeadLettered {
  readonly seq: number;
  readonly taskId: string;
  readonly path: string;
  readonly kind: string;
  readonly message: string;
  readonly finalAttempt: number;
}

/** Everything the demo reports. `--json` prints exactly this. */
export interface Summary {
  readonly root: string;
  readonly backend: string;
  readonly workers: number;
  readonly concurrency: number;
  /** Tasks run (one per file). */
  readonly files: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Bytes of the files that succeeded. */
  readonly totalBytes: number;
  readonly totalLines: number;
  readonly elapsedMs: number;
  readonly tasksPerSecond: number;
  readonly largest: FileStat[];
  readonly failures: Failure[];
  /** The DLQ entries whose task id is one of this run's. */
  readonly deadLettered: DeadLettered[];
  /** Entries found but not processed, with why (symlinks to directories, FIFOs…). */
  readonly skipped: Array<{ path: string; reason: string }>;
  /** Directories that could not be listed. */
  readonly walkErrors: Array<{ path: string; message: string }>;
  /** Every file's result (JSON output only). */
  readonly results: FileStat[];
}

/** Reports progress on stderr: one line rewritten with `\r` on a TTY, else a line every 10 %. */
export class Progress {
  #done = 0;
  #failed = 0;
  #lastStep = -1;
  #lastDraw = 0;
  readonly #started = performance.now();

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Counts one finished task. */
  tick(failed: boolean): void {
    this.#done++;
    if (failed) this.#failed++;
    if (this.stream.isTTY) {
      const now = performance.now();
      if (now - this.#lastDraw < 100 && this.#done < this.total) return;
      this.#lastDraw = now;
      this.stream.write(`\r${this.#line()}\u001b[K`);
      if (this.#done === this.total) this.stream.write("\n");
      return;
    }
    const step = this.total === 0 ? 10 : Math.floor((this.#done * 10) / this.total);
    if (step !== this.#lastStep) {
      this.#lastStep = step;
      this.stream.write(`${this.#line()}\n`);
    }
  }

  #line(): string {
    const pct = this.total === 0 ? 100 : Math.floor((this.#done * 100) / this.total);
    const secs = (performance.now() - this.#started) / 1000;
    const rate = secs > 0 ? Math.round(this.#done / secs) : 0;
    return `progress: ${this.#done}/${this.total} (${pct}%) ${this.#failed} failed, ${rate} tasks/s`;
  }
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

/** How many not-processed entries the text summary lists (all of them are in the JSON). */
const MAX_SKIPPED_SHOWN = 20;

/** The human-readable summary. */
export function formatSummary(s: Summary): string {
  const out: string[] = [];
  out.push(`root:        ${s.root}`);
  out.push(`backend:     ${s.backend}`);
  out.push(`workers:     ${s.workers} × concurrency ${s.concurrency}`);
  out.push(`files:       ${s.files} (${s.succeeded} ok, ${s.failed} failed)`);
  out.push(`total bytes: ${s.totalBytes} (${formatBytes(s.totalBytes)}), ${s.totalLines} lines`);
  out.push(`elapsed:     ${(s.elapsedMs / 1000).toFixed(2)} s, ${s.tasksPerSecond.toFixed(0)} tasks/s`);
  out.push("");
  out.push(`largest ${s.largest.length} files:`);
  for (const f of s.largest) out.push(`  ${formatBytes(f.bytes).padStart(10)}  ${f.path}`);
  out.push("");
  out.push(`failed files: ${s.failures.length}`);
  for (const f of s.failures) out.push(`  ${f.path}: ${f.kind}: ${f.message}`);
  out.push(`dead-lettered: ${s.deadLettered.length} of this run's tasks are in the DLQ`);
  for (const d of s.deadLettered) out.push(`  DLQ seq ${d.seq}  task ${d.taskId}  attempt ${d.finalAttempt}  ${d.kind}: ${d.message}`);
  if (s.skipped.length > 0) {
    out.push("");
    out.push(`not processed: ${s.skipped.length}`);
    for (const k of s.skipped.slice(0, MAX_SKIPPED_SHOWN)) out.push(`  ${k.path}: ${k.reason}`);
    if (s.skipped.length > MAX_SKIPPED_SHOWN) out.push(`  … and ${s.skipped.length - MAX_SKIPPED_SHOWN} more (--json lists them all)`);
  }
  if (s.walkErrors.length > 0) {
    out.push("");
    out.push(`directories that could not be read: ${s.walkErrors.length}`);
    for (const e of s.walkErrors) out.push(`  ${e.path}: ${e.message}`);
  }
  return out.join("\n") + "\n";
}

/** The `n` largest results, largest first (ties by path). */
export function largest(results: readonly FileStat[], n = 10): FileStat[] {
  return [...results].sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1)).slice(0, n);
}
