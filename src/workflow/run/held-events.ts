/**
 * Keeps the scheduler's events alive while it holds them (queued behind others of their DAG, or
 * being handled): an in-progress ack for each every {@link HELD_EVENT_HEARTBEAT_MS}. So the event
 * durable's ack wait can be short, and the events of a scheduler that died go to another one within
 * {@link EVENT_ACK_WAIT_MS} (issue 16: with a fixed 30 s ack wait and no heartbeats, 20 DAGs took
 * 29 s to finish after their scheduler was killed).
 * @module
 */
import type { Delivery } from "../../broker/port.js";

/** The event durable's ack wait: how long the events of a dead scheduler wait to be redelivered. */
export const EVENT_ACK_WAIT_MS = 5000;
/** How often held events are reported in progress: under a third of the ack wait. */
export const HELD_EVENT_HEARTBEAT_MS = 1500;

/** The deliveries a scheduler holds and has not settled yet. */
export class HeldEvents {
  readonly #held = new Set<Delivery>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly everyMs = HELD_EVENT_HEARTBEAT_MS) {}

  /** Starts reporting `delivery` in progress until {@link release}. */
  hold(delivery: Delivery): void {
    this.#held.add(delivery);
    this.#timer ??= setInterval(() => {
      for (const d of this.#held) d.working();
    }, this.everyMs).unref();
  }

  /** Stops reporting `delivery` (call it when it is acked or nak'ed). */
  release(delivery: Delivery): void {
    this.#held.delete(delivery);
    if (this.#held.size === 0) this.close();
  }

  /** Stops the timer; deliveries still held are no longer reported. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
