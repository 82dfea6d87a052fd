/**
 * The pull loop shared by workers, clients and schedulers: keep pulls open for as many deliveries
 * as there is room for, hand each delivery to a callback, and keep going through errors (a missing
 * consumer is re-created; anything else is reported and retried with backoff) until stopped.
 * Backend-independent.
 *
 * Pulls are pipelined: the next pull is requested while the previous one is still delivering, as
 * soon as enough room has been freed, so a worker never sits idle waiting for a pull round trip.
 * What is requested but not yet delivered counts against the room, so the deliveries in the client
 * never exceed it: no message waits in a client buffer it cannot be worked from.
 * @module
 */
import type { Broker, ConsumerSpec, Delivery } from "./port.js";
import { EbindError } from "../task/errors.js";

/** Options of {@link ConsumeLoop}. */
export interface ConsumeLoopOptions {
  readonly broker: Broker;
  readonly stream: string;
  /** The durable consumer; re-created from this spec if it disappears. */
  readonly consumer: ConsumerSpec;
  /**
   * How many more deliveries this consumer may take now (free capacity, not counting what open pulls
   * may still deliver); the loop does not pull while it is 0.
   * @default a constant `maxBatch` (a consumer whose deliveries are handled at once, like responses)
   */
  readonly room?: (() => number) | undefined;
  /** Resolves when {@link room} may have grown. Needed when `room` is given. */
  readonly roomChanged?: (() => Promise<void>) | undefined;
  /** Receives every delivery; must not throw (it owns settling the delivery). */
  readonly onDelivery: (delivery: Delivery) => void;
  /** Receives errors the loop recovered from. */
  readonly onError?: ((err: unknown) => void) | undefined;
  /**
   * Called once when the loop ends because its broker's connection is closed for good (an
   * `EbindError` with code `closed`, e.g. a connection its owner closed): nothing more can be pulled,
   * so the loop stops instead of retrying forever.
   */
  readonly onClosed?: ((err: unknown) => void) | undefined;
  /** Expiry of each pull, in ms. @default 2000 */
  readonly pullExpiresMs?: number | undefined;
  /** Largest pull, in deliveries. @default 256 */
  readonly maxBatch?: number | undefined;
  /** Pulls open at once, at most. @default 4 */
  readonly maxOpenPulls?: number | undefined;
  /**
   * On {@link ConsumeLoop.stop}, let the pulls in progress run to their expiry and nak what still
   * arrives, rather than dropping it. On NATS 2.9 a pull request outlives the client that stopped
   * listening: a message the server sends to it in that window would sit unacknowledged until the
   * ack wait ran out. Draining makes `stop` take up to `pullExpiresMs`.
   * @default the broker's `lingeringPulls`
   */
  readonly drainOnStop?: boolean | undefined;
}

const MAX_ERROR_PAUSE_MS = 5000;
/** A pull neither served nor ended this long after its expiry counts as stuck (see `consuming`). */
const UNSERVED_GRACE_MS = 1000;
/** Default pull expiry: short, so failover stalls and shutdown drains stay short (nats-2.9-notes item 3). */
export const DEFAULT_PULL_EXPIRES_MS = 2000;
const DEFAULT_MAX_BATCH = 256;
const DEFAULT_MAX_OPEN_PULLS = 4;

/**
 * Runs a pull loop until {@link stop}. States: `running` (pulling, or waiting for room) →
 * `stopping` (open pulls end or drain; deliveries arriving now are nak'ed for others) → `stopped`.
 */
export class ConsumeLoop {
  readonly #options: ConsumeLoopOptions;
  readonly #expiresMs: number;
  readonly #maxBatch: number;
  readonly #maxOpen: number;
  /** No new pulls; deliveries of open pulls are nak'ed. */
  readonly #stopping = new AbortController();
  /** Ends the open pulls at once. */
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;
  /** Open pulls: how many deliveries each may still bring, when it started, whether the server served it yet. */
  readonly #open = new Set<{ remaining: number; done: Promise<void>; startedAt: number; served: boolean }>();
  /** Deliveries the open pulls may still bring. */
  #outstanding = 0;
  /** The largest room seen: pulls after the first wait until half of it (or of maxBatch) is free. */
  #capacity = 1;
  /** Wakes the loop when a pull ends or delivers, or on stop. */
  #progress: (() => void) | undefined;
  #lastError: unknown;
  /** No pull failed or went unanswered since the last pull the server served (see {@link consuming}). */
  #consuming = true;

  constructor(options: ConsumeLoopOptions) {
    this.#options = options;
    this.#expiresMs = options.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS;
    this.#maxBatch = Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH);
    this.#maxOpen = Math.max(1, options.maxOpenPulls ?? DEFAULT_MAX_OPEN_PULLS);
    this.#done = this.#run();
  }

  /**
   * Whether the loop consumes: true from the start (its consumer was just set up) and after a pull
   * the server served (a delivery, or an end of the server's own); false after a pull failed or ended
   * unanswered, until one is served again, and while a pull has gone unserved for a second past its
   * expiry. A loop with no room, pulling nothing, keeps its state.
   */
  get consuming(): boolean {
    if (!this.#consuming) return false;
    // A pull the server has neither served nor ended by its expiry (plus a second) is stuck: being
    // set up against a consumer without a leader, whose lookup waits out the request timeout.
    const stuckBefore = Date.now() - this.#expiresMs - UNSERVED_GRACE_MS;
    for (const pull of this.#open) if (!pull.served && pull.startedAt < stuckBefore) return false;
    return true;
  }

  /** Stops pulling and resolves once every open pull has ended (see `drainOnStop`); idempotent. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#wake();
    if (!(this.#options.drainOnStop ?? this.#options.broker.lingeringPulls)) this.#abort.abort();
    const hard = setTimeout(() => this.#abort.abort(), this.#expiresMs + 1000);
    await this.#done;
    clearTimeout(hard);
  }

  #room(): number {
    return this.#options.room ? this.#options.room() : this.#maxBatch;
  }

  /** How many deliveries to ask for now, or 0 to wait. */
  #want(): number {
    const room = this.#room();
    if (room > this.#capacity) this.#capacity = room;
    const credit = room - this.#outstanding;
    if (credit <= 0 || this.#open.size >= this.#maxOpen) return 0;
    // With a pull open, wait until a worthwhile batch is free rather than sending many tiny pulls.
    const lowWater = Math.max(1, Math.ceil(Math.min(this.#capacity, this.#maxBatch) / 2));
    if (this.#open.size > 0 && credit < lowWater) return 0;
    return Math.min(credit, this.#maxBatch);
  }

  #wake(): void {
    const wake = this.#progress;
    this.#progress = undefined;
    wake?.();
  }

  async #run(): Promise<void> {
    const signal = this.#stopping.signal;
    let pause = 100;
    while (!signal.aborted) {
      if (this.#lastError !== undefined) {
        const err = this.#lastError;
        this.#lastError = undefined;
        if (err instanceof EbindError && err.code === "closed") {
          this.#stopping.abort();
          this.#abort.abort();
          this.#options.onClosed?.(err);
          break;
        }
        await this.#recover(err, pause);
        pause = Math.min(pause * 2, MAX_ERROR_PAUSE_MS);
        continue;
      }
      const want = this.#want();
      if (want > 0) {
        this.#startPull(want, () => (pause = 100));
        continue;
      }
      await this.#wait(this.#options.roomChanged?.());
    }
    await Promise.all([...this.#open].map((p) => p.done));
  }

  /** Reports a pull error, re-creates a vanished consumer, and pauses before pulling again. */
  async #recover(err: unknown, pauseMs: number): Promise<void> {
    this.#options.onError?.(err);
    if (err instanceof EbindError && err.code === "not_found") {
      await this.#options.broker.ensureConsumer(this.#options.stream, this.#options.consumer).catch((e: unknown) => this.#options.onError?.(e));
    }
    await this.#wait(sleep(pauseMs));
  }

  /**
   * Waits for a pull's progress, for stop, or for `also`. Not `Promise.race` with a long-lived
   * promise: every race leaves a reaction on it until it settles, and this wait runs once per
   * handful of deliveries (a worker's heap grew by 70 MiB over 200,000 tasks that way).
   */
  #wait(also?: Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#progress = resolve;
      also?.then(resolve, resolve);
    });
  }

  #startPull(max: number, onSuccess: () => void): void {
    const { broker, stream, consumer, onDelivery } = this.#options;
    const signal = this.#stopping.signal;
    const entry = { remaining: max, done: Promise.resolve(), startedAt: Date.now(), served: false };
    this.#open.add(entry);
    this.#outstanding += max;
    let unconfirmed = false;
    entry.done = (async () => {
      try {
        const pull = broker.pull(stream, consumer.durable, {
          max,
          expiresMs: this.#expiresMs,
          signal: this.#abort.signal,
          onUnconfirmedEnd: () => (unconfirmed = true),
        });
        for await (const delivery of pull) {
          this.#consuming = true;
          entry.served = true;
          if (entry.remaining > 0) {
            entry.remaining--;
            this.#outstanding--;
          }
          // Handed back while stopping: delayed past this pull's expiry, or a pull that lingers on the
          // server (NATS 2.9) would get it again at once, again and again, each time counting a delivery.
          if (signal.aborted) delivery.nak(this.#expiresMs);
          else onDelivery(delivery);
          // A constant room grows with every delivery; a room function reports through roomChanged.
          if (!this.#options.room) this.#wake();
        }
        this.#consuming = !unconfirmed;
        onSuccess();
      } catch (err) {
        if (!signal.aborted) {
          this.#lastError = err;
          this.#consuming = false;
        }
      } finally {
        this.#outstanding -= entry.remaining;
        entry.remaining = 0;
        this.#open.delete(entry);
        this.#wake();
      }
    })();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
