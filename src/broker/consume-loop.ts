/**
 * The pull loop shared by workers and clients: pull as many deliveries as there is room for, hand
 * each to a callback, and keep going through errors (a missing consumer is re-created; anything
 * else is reported and retried with backoff) until stopped. Backend-independent.
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
  /** How many deliveries may be pulled now (free capacity); the loop waits while it is 0. */
  readonly room: () => number;
  /** Resolves when {@link room} may have become positive. */
  readonly roomChanged: () => Promise<void>;
  /** Receives every delivery; must not throw (it owns settling the delivery). */
  readonly onDelivery: (delivery: Delivery) => void;
  /** Receives errors the loop recovered from. */
  readonly onError?: ((err: unknown) => void) | undefined;
  /** Expiry of each pull, in ms. @default 2000 */
  readonly pullExpiresMs?: number | undefined;
  /** Largest pull, in deliveries. @default 256 */
  readonly maxBatch?: number | undefined;
  /**
   * On {@link ConsumeLoop.stop}, let the pull in progress run to its expiry and nak what still
   * arrives, rather than dropping it. On NATS 2.9 a pull request outlives the client that stopped
   * listening: a message the server sends to it in that window would sit unacknowledged until the
   * ack wait ran out. Draining makes `stop` take up to `pullExpiresMs`.
   * @default the broker's `lingeringPulls`
   */
  readonly drainOnStop?: boolean | undefined;
}

const MAX_ERROR_PAUSE_MS = 5000;
/** Default pull expiry: short, so failover stalls and shutdown drains stay short (nats-2.9-notes item 3). */
export const DEFAULT_PULL_EXPIRES_MS = 2000;

/**
 * Runs a pull loop until {@link stop}. States: `running` (pulling or waiting for room) →
 * `stopping` (the current pull is aborted; deliveries arriving now are nak'ed for others) → `stopped`.
 */
export class ConsumeLoop {
  readonly #options: ConsumeLoopOptions;
  /** No new pulls; deliveries of the current pull are nak'ed. */
  readonly #stopping = new AbortController();
  /** Ends the current pull at once. */
  readonly #abort = new AbortController();
  readonly #stopped: Promise<void>;
  readonly #done: Promise<void>;

  constructor(options: ConsumeLoopOptions) {
    this.#options = options;
    // One listener for the loop's lifetime, not one per wait.
    this.#stopped = new Promise((resolve) => this.#stopping.signal.addEventListener("abort", () => resolve(), { once: true }));
    this.#done = this.#run();
  }

  /** Stops pulling and resolves once the loop has ended (see `drainOnStop`); idempotent. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    const expiresMs = this.#options.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS;
    if (!(this.#options.drainOnStop ?? this.#options.broker.lingeringPulls)) this.#abort.abort();
    const hard = setTimeout(() => this.#abort.abort(), expiresMs + 1000);
    await this.#done;
    clearTimeout(hard);
  }

  async #run(): Promise<void> {
    const { broker, stream, consumer, onDelivery } = this.#options;
    const signal = this.#stopping.signal;
    const expiresMs = this.#options.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS;
    const maxBatch = this.#options.maxBatch ?? 256;
    let pause = 100;
    while (!signal.aborted) {
      let room = this.#options.room();
      while (room <= 0 && !signal.aborted) {
        await Promise.race([this.#options.roomChanged(), this.#stopped]);
        room = this.#options.room();
      }
      if (signal.aborted) break;
      try {
        const pull = broker.pull(stream, consumer.durable, { max: Math.min(room, maxBatch), expiresMs, signal: this.#abort.signal });
        for await (const delivery of pull) {
          if (signal.aborted) delivery.nak();
          else onDelivery(delivery);
        }
        pause = 100;
      } catch (err) {
        if (signal.aborted) break;
        this.#options.onError?.(err);
        if (err instanceof EbindError && err.code === "not_found") {
          await broker.ensureConsumer(stream, consumer).catch((e: unknown) => this.#options.onError?.(e));
        }
        await Promise.race([sleep(pause), this.#stopped]);
        pause = Math.min(pause * 2, MAX_ERROR_PAUSE_MS);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
