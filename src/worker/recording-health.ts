/**
 * Whether a worker can record outcomes now, for `worker.ready`: a handler's slot is held until its
 * outcome (step record, response, dead letter) is stored, so a store that cannot take writes — a
 * stream electing its leader after a node died — stops a worker as surely as a pull that fails,
 * while its pulls look fine (issue 16: a worker said ready for 6 s with every slot waiting on a
 * write). Unhealthy while a recording has waited longer than {@link RECORDING_STUCK_MS}, and after
 * one failed until one succeeds or {@link RECORDING_FAILED_MS} passed (an idle worker is not left
 * unready for good by one failure).
 * @module
 */

/** A recording in flight for longer than this makes the worker not ready, ms. */
export const RECORDING_STUCK_MS = 2000;
/** A failed recording makes the worker not ready for this long at most, ms. */
export const RECORDING_FAILED_MS = 5000;

/** The outcome recordings in flight, and whether the last one to end failed. */
export class RecordingHealth {
  /** Start time (ms) of each recording in flight, by its delivery. */
  readonly #inFlight = new Map<object, number>();
  /** When the last recording to end failed (ms), or undefined when it succeeded. */
  #failedAt: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** A recording for `key` (its delivery) starts. */
  begin(key: object): void {
    this.#inFlight.set(key, this.now());
  }

  /** The recording for `key` ended: stored (`ok`) or given up for a retry. */
  end(key: object, ok: boolean): void {
    this.#inFlight.delete(key);
    this.#failedAt = ok ? undefined : this.now();
  }

  /** No recording failed last (within {@link RECORDING_FAILED_MS}) and none has waited longer than {@link RECORDING_STUCK_MS}. */
  healthy(): boolean {
    const now = this.now();
    if (this.#failedAt !== undefined && now - this.#failedAt < RECORDING_FAILED_MS) return false;
    for (const since of this.#inFlight.values()) if (now - since > RECORDING_STUCK_MS) return false;
    return true;
  }
}
