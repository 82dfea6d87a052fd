/**
 * Coalescing acknowledgements into fewer socket writes.
 *
 * The NATS client flushes its outbound buffer in a microtask queued by the first command written to
 * an empty buffer. A worker settles each delivery at the end of its own chain of awaits, so acks
 * land in separate microtasks and nearly every ack became its own socket write: in the
 * fire-and-forget benchmark, `writeBuffer` under that flush was a quarter of the worker's busy
 * time. Settling in a batch once per turn of the event loop puts every ack of that turn in one
 * write. An ack is sent at most one event-loop turn later; nothing is dropped (close flushes the
 * batch first), and at-least-once delivery is unchanged: an ack that never arrives means a
 * redelivery, as it always did.
 * @module
 */

/** Runs queued settle operations in order, all together, once per event-loop turn. */
export class SettleBatch {
  #queue: Array<() => void> = [];
  #scheduled = false;

  /** Queues `op` (an ack, nak, term or in-progress call on a message). */
  push(op: () => void): void {
    this.#queue.push(op);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Runs everything queued now, in order. An operation that throws does not stop the others. */
  flush(): void {
    this.#scheduled = false;
    const ops = this.#queue;
    if (ops.length === 0) return;
    this.#queue = [];
    for (const op of ops) {
      try {
        op();
      } catch {
        // The connection is closed: the server redelivers after the ack wait, as for a lost ack.
      }
    }
  }
}
