/**
 * Progress on stderr for long operations (`dag ls` over many DAGs, `dlq requeue --all`): shown only
 * when stderr is a terminal, and only once the work has taken more than a second or passed 500
 * items, redrawn in place at most every 100 ms, erased when done.
 * @module
 */
import type { CliIo } from "./io.js";

/** Shown after this long… */
export const PROGRESS_AFTER_MS = 1000;
/** …or after this many items. */
export const PROGRESS_AFTER_ITEMS = 500;

/** A progress line; inert when stderr is not a terminal. */
export class Progress {
  readonly #started = Date.now();
  #shownAt = 0;
  #shown = false;

  constructor(
    private readonly io: CliIo,
    private readonly label: string,
  ) {}

  /** Records progress: `done` of about `total`. */
  update(done: number, total: number): void {
    if (this.io.stderrIsTTY !== true) return;
    const now = Date.now();
    if (!this.#shown && now - this.#started < PROGRESS_AFTER_MS && done < PROGRESS_AFTER_ITEMS) return;
    if (this.#shown && now - this.#shownAt < 100 && done < total) return;
    this.#shown = true;
    this.#shownAt = now;
    const pct = total > 0 ? ` (${Math.min(100, Math.floor((done / total) * 100))}%)` : "";
    this.io.stderr.write(`\r\x1b[2K${this.label}: ${done}/${total}${pct}`);
  }

  /** Erases the line, if one was drawn. */
  done(): void {
    if (this.#shown) this.io.stderr.write("\r\x1b[2K");
    this.#shown = false;
  }
}
