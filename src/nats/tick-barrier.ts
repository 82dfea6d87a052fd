/**
 * Lining up writes so the NATS client sends them in one socket write.
 *
 * The client flushes its outbound buffer in a microtask queued by the first write into an empty
 * buffer. Publishes made at different depths of different promise chains land on both sides of
 * that flush, so under load most of them went out one write each (`writeBuffer` was 11 % of a
 * request/response worker's CPU). Callers that await {@link TickBarrier.wait} before writing resume
 * together, after the current run of microtasks, and write back to back before the flush runs. No
 * timer is involved: the wait ends within the same turn of the event loop.
 * @module
 */

/** A shared promise that resolves once the current run of microtasks has drained. */
export class TickBarrier {
  #next: Promise<void> | undefined;

  /** Resolves after the microtasks queued now have run (process.nextTick). */
  wait(): Promise<void> {
    this.#next ??= new Promise<void>((resolve) =>
      process.nextTick(() => {
        this.#next = undefined;
        resolve();
      }),
    );
    return this.#next;
  }
}
