/**
 * The in-progress acks of a worker's held deliveries (DESIGN.md §4 "Long handlers"): a delivery a
 * worker holds — waiting for a slot, running, settling — is reported in progress every third of the
 * shortest ack wait in force on the worker's consumers, so the server does not redeliver it while it
 * is still being handled. They go out from a thread of the broker's own when it has one (NATS:
 * `startHeartbeats`), which keeps them going while a handler blocks the event loop, and from a timer
 * on the event loop as the fallback (other backends, a thread still connecting or reconnecting).
 * @module
 */
import type { Clock, TimerHandle } from "../broker/clock.js";
import type { Logger } from "../broker/logger.js";
import type { Broker, Delivery, Heartbeats } from "../broker/port.js";

/** In-progress acks for the deliveries `held()` lists; see the module comment. */
export class ProgressAcks {
  #timer: TimerHandle | undefined;
  #everyMs = Infinity;
  #thread: Heartbeats | undefined;
  #closed = false;

  constructor(
    private readonly broker: Broker,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** The deliveries held now (the timer's fallback beats each of them). */
    private readonly held: () => Iterable<Delivery>,
  ) {}

  /** A consumer with this ack wait is in force: beats go out every third of it (at least every 50 ms), if that is sooner than now. */
  watchAckWait(ackWaitMs: number): void {
    const every = Math.max(50, Math.floor(ackWaitMs / 3));
    if (every >= this.#everyMs || this.#closed) return;
    this.#everyMs = every;
    this.#thread ??= this.broker.startHeartbeats?.({ everyMs: every, logger: this.logger });
    if (this.#timer) this.clock.clearTimer(this.#timer);
    const beat = (): void => {
      for (const delivery of this.held()) delivery.working();
      if (!this.#closed) this.#timer = this.clock.setTimer(beat, this.#everyMs);
    };
    this.#timer = this.clock.setTimer(beat, every);
  }

  /** The thread starts beating `delivery` (the timer beats whatever `held()` lists). */
  track(delivery: Delivery): void {
    this.#thread?.track(delivery, { everyMs: this.#everyMs });
  }

  /** No more beats for `delivery` from the thread. */
  untrack(delivery: Delivery): void {
    this.#thread?.untrack(delivery);
  }

  /** Stops the timer and ends the thread. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    const thread = this.#thread;
    this.#thread = undefined;
    await thread?.close();
  }
}
