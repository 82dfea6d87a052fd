/**
 * A pull request in process: it asks a consumer for up to `max` deliveries, receives them as the
 * consumer assigns them, and ends at `max`, at expiry (clock-driven), on abort, or when the broker
 * closes. Several pulls on one durable share its messages, each message to one pull.
 * @module
 */
import type { Clock } from "../broker/clock.js";
import type { Delivery, PullOptions } from "../broker/port.js";
import type { EbindError } from "../task/errors.js";
import type { MemoryConsumer } from "./consumer.js";

/** A waiting pull as its consumer sees it. */
export class PullWaiter {
  readonly #buffer: Delivery[] = [];
  #remaining: number;
  #ended = false;
  #error: EbindError | undefined;
  #wake: (() => void) | undefined;

  constructor(max: number) {
    this.#remaining = Math.max(1, Math.floor(max));
  }

  /** Deliveries it may still receive. */
  get remaining(): number {
    return this.#ended ? 0 : this.#remaining;
  }

  /** Hands it one delivery (the consumer only calls this while {@link remaining} > 0). */
  push(delivery: Delivery): void {
    this.#buffer.push(delivery);
    this.#remaining--;
    this.#notify();
  }

  /** Ends the pull; deliveries already handed over are still yielded. With `error`, the pull then throws it. */
  end(error?: EbindError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#notify();
  }

  /** The pull's iterator. */
  async *iterate(): AsyncGenerator<Delivery> {
    for (;;) {
      const next = this.#buffer.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended || this.#remaining <= 0) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * Runs one pull against `consumer` (looked up by the caller, which throws `not_found` when missing).
 * The waiter is registered when iteration starts and removed when it ends, however it ends.
 */
export async function* runPull(consumer: () => MemoryConsumer, clock: Clock, options: PullOptions): AsyncGenerator<Delivery> {
  if (options.signal?.aborted) return;
  const target = consumer();
  const waiter = new PullWaiter(options.max);
  const timer = clock.setTimer(() => waiter.end(), Math.max(0, options.expiresMs));
  const onAbort = (): void => waiter.end();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  target.addWaiter(waiter);
  try {
    yield* waiter.iterate();
  } finally {
    clock.clearTimer(timer);
    options.signal?.removeEventListener("abort", onAbort);
    target.removeWaiter(waiter);
  }
}
