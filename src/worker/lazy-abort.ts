/**
 * An abort controller made only when somebody asks for its signal. Most handlers never look at
 * `ctx.signal`; creating an `AbortController` for every task was 2–3 % of a worker's CPU in the
 * throughput benchmarks. Aborting before the signal exists is remembered: the signal, when asked
 * for, is already aborted with the same reason.
 * @module
 */

/** Something the worker can abort at shutdown or at a deadline. */
export interface Abortable {
  abort(reason: unknown): void;
}

/** A lazily created {@link AbortController}. */
export class LazyAbort implements Abortable {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #listener: ((reason: unknown) => void) | undefined;

  /** Calls `listener` with the reason when aborted (at once if already aborted); one listener, the last set. */
  onAbort(listener: (reason: unknown) => void): void {
    this.#listener = listener;
    if (this.#aborted) listener(this.#reason);
  }

  /** The signal, created on first use (already aborted if {@link abort} ran before). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Whether {@link abort} has run. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** The reason given to the first {@link abort}. */
  get reason(): unknown {
    return this.#reason;
  }

  /** Aborts once; later calls do nothing (as `AbortController.abort`). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#listener?.(reason);
  }
}
