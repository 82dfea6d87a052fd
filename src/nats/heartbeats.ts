/**
 * In-progress acks from a worker thread (DESIGN.md §4, "Long handlers"; reference §3 in-progress
 * acks): a handler that blocks the event loop past the consumer's ack wait is not redelivered,
 * because acks are plain publishes to the delivery's ack subject, which a thread with its own
 * connection can send while the main thread is busy. Track and untrack are posted messages, so they
 * need nothing from the main loop later. The thread's code is in heartbeat-thread.ts.
 * @module
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Delivery, HeartbeatOptions, Heartbeats, TrackOptions } from "../broker/port.js";
import { resolveLogger, type Logger } from "../broker/logger.js";
import { EbindError } from "../task/errors.js";
import {
  TABLE,
  TABLE_BYTES,
  tableViews,
  HEARTBEAT_THREAD_SOURCE,
  type FromHeartbeatThread,
  type HeartbeatThreadData,
  type NatsThreadConnectOptions,
  type ToHeartbeatThread,
} from "./heartbeat-thread.js";
import { NatsDelivery } from "./pull.js";

/** How long close waits for the thread to drain its connection and exit before terminating it. */
const CLOSE_TIMEOUT_MS = 3000;
/** Pause between two attempts of the thread to open its connection. */
const CONNECT_RETRY_MS = 1000;

/**
 * `value` when it is a positive, finite number of ms.
 * @throws EbindError `invalid_argument` naming `what` otherwise.
 */
export function positiveMs(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new EbindError("invalid_argument", `heartbeats: ${what} must be a positive number of ms, got ${String(value)}`);
  }
  return value;
}

/** The `file:` URL of the NATS client's entry point, as this module resolves it. */
function transportUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve("@nats-io/transport-node")).href;
}

/**
 * A heartbeat thread and its connection: the NATS implementation of {@link Heartbeats}, returned by
 * `NatsBroker.startHeartbeats`. It only serves NATS deliveries (those with an ack subject).
 *
 * The thread is unref'd (it never keeps the process alive) and dies with the process; a thread that
 * cannot connect logs through the logger every retry and keeps trying; an error that kills the
 * thread is logged, and `track` returns false from then on.
 */
export class NatsHeartbeats implements Heartbeats {
  /** Interval of deliveries tracked without their own, in ms. */
  readonly everyMs: number;
  /**
   * Resolves true once the thread's connection is open (heartbeats sent before that are skipped),
   * false if the thread closed or died first. Never rejects. Awaiting it does not keep the process
   * alive (the thread is unref'd).
   */
  readonly ready: Promise<boolean>;
  /** Resolves with the thread's exit code once it has exited (0 after {@link close}). Never rejects. */
  readonly exited: Promise<number>;
  readonly #worker: Worker;
  readonly #logger: Logger;
  #alive = true;
  #closed: Promise<void> | undefined;
  #queue: ToHeartbeatThread[] = [];
  readonly #meta: Int32Array;
  readonly #times: Float64Array;
  readonly #subjects: Uint8Array;
  /** Slots of the shared table not in use. */
  readonly #free: number[] = [];
  readonly #encoder = new TextEncoder();
  /** How to stop tracking each delivery tracked now. */
  readonly #releases = new Map<NatsDelivery, () => void>();

  /**
   * Starts the thread. Prefer `NatsBroker.startHeartbeats`, which passes the broker's connection options.
   * @throws EbindError `invalid_argument` when `everyMs` is not a positive number, or when `connect`
   *   cannot be copied to a thread (it holds a function or another uncloneable value).
   */
  constructor(connect: NatsThreadConnectOptions, options: HeartbeatOptions) {
    this.everyMs = positiveMs(options.everyMs, "everyMs");
    this.#logger = resolveLogger(options.logger, "heartbeats.logger");
    const table = new SharedArrayBuffer(TABLE_BYTES);
    ({ meta: this.#meta, times: this.#times, subjects: this.#subjects } = tableViews(table));
    for (let i = TABLE.SLOTS - 1; i >= 0; i--) this.#free.push(i);
    const workerData: HeartbeatThreadData = { transportUrl: transportUrl(), connect, retryMs: CONNECT_RETRY_MS, table };
    try {
      this.#worker = new Worker(HEARTBEAT_THREAD_SOURCE, {
        eval: true,
        workerData,
        name: "ebind-heartbeats",
        // Not the parent's flags (`--import tsx`, `--input-type`, instrumentation): the thread loads only the NATS client.
        execArgv: [],
      });
    } catch (err) {
      throw new EbindError("invalid_argument", `heartbeats: cannot start the heartbeat thread: ${(err as Error).message}`, { cause: err });
    }
    let setReady: (ok: boolean) => void = () => undefined;
    this.ready = new Promise((resolve) => (setReady = resolve));
    this.#worker.on("message", (m: FromHeartbeatThread) => {
      if (m.type === "ready") setReady(true);
      else if (m.error === undefined) this.#logger[m.level](m.message);
      else this.#logger[m.level]({ error: m.error }, m.message);
    });
    this.#worker.on("error", (err) => this.#logger.error({ error: err.message }, "heartbeats: the heartbeat thread failed; in-progress acks stop"));
    this.exited = new Promise((resolve) =>
      this.#worker.once("exit", (code) => {
        this.#alive = false;
        setReady(false);
        resolve(code);
      }),
    );
    // Last: adding a `message` listener refs the worker's port again (Node 20), which kept the process alive.
    this.#worker.unref();
  }

  /**
   * Sends `+WPI` to `delivery`'s ack subject every `everyMs` (first one `everyMs` from now) until
   * {@link untrack}, until it is settled, or until `forMs` passed. Returns false, sending nothing,
   * for a delivery that is not a NATS delivery, is already settled, or when the thread is closed.
   * @throws EbindError `invalid_argument` for an `everyMs` or `forMs` that is not a positive number.
   */
  track(delivery: Delivery, options: TrackOptions = {}): boolean {
    const everyMs = options.everyMs === undefined ? this.everyMs : positiveMs(options.everyMs, "track everyMs");
    const forMs = options.forMs === undefined ? 0 : positiveMs(options.forMs, "track forMs");
    if (!this.#alive || this.#closed !== undefined) return false;
    if (!(delivery instanceof NatsDelivery) || delivery.settled || delivery.ackSubject === "") return false;
    const subject = delivery.ackSubject;
    const slot = this.#free.pop();
    if (slot !== undefined) {
      // The common path: a few stores into shared memory, no message to the thread.
      const at = slot * TABLE.SUBJECT_BYTES;
      const { read, written } = this.#encoder.encodeInto(subject, this.#subjects.subarray(at, at + TABLE.SUBJECT_BYTES));
      if (read === subject.length) {
        const m = slot * 4;
        this.#meta[m + 1] = written;
        this.#meta[m + 2] = Math.max(1, Math.round(everyMs));
        this.#meta[m + 3] = Math.round(forMs);
        this.#times[slot] = Date.now();
        const generation = Atomics.add(this.#meta, m, 1) + 1; // odd: in use
        const release = (): void => {
          this.#releases.delete(delivery);
          this.#release(slot, generation);
        };
        this.#releases.set(delivery, release);
        delivery.onSettle(release);
        return true;
      }
      this.#free.push(slot);
    }
    // The table is full, or the subject longer than a slot: one message each way.
    const release = (): void => {
      this.#releases.delete(delivery);
      this.#post({ type: "untrack", subject });
    };
    this.#releases.set(delivery, release);
    delivery.onSettle(release);
    this.#post({ type: "track", subject, everyMs, forMs });
    return true;
  }

  /** Frees a slot of the shared table, if it still holds the same tracking. */
  #release(slot: number, generation: number): void {
    if (Atomics.compareExchange(this.#meta, slot * 4, generation, generation + 1) === generation) this.#free.push(slot);
  }

  /** Stops the heartbeats of `delivery`; a no-op when it is not tracked. */
  untrack(delivery: Delivery): void {
    // A settled delivery was untracked when it settled.
    if (!(delivery instanceof NatsDelivery) || delivery.settled) return;
    const release = this.#releases.get(delivery);
    if (release === undefined) return;
    delivery.onSettle(undefined);
    release();
  }

  /**
   * Stops every heartbeat, lets the thread drain its connection and exit, and waits for that (at most
   * 3 s, then the thread is terminated). Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  async #shutdown(): Promise<void> {
    this.#post({ type: "close" });
    const timer = setTimeout(() => void this.#worker.terminate(), CLOSE_TIMEOUT_MS);
    timer.unref();
    await this.exited;
    clearTimeout(timer);
  }

  /**
   * Queues a message for the thread; the queue goes out as one array at the end of the current
   * microtask run (one postMessage per pull batch instead of several per task). That is still
   * before any handler of these deliveries starts: handlers start in later microtasks or turns.
   */
  #post(message: ToHeartbeatThread): void {
    if (!this.#alive) return;
    this.#queue.push(message);
    if (this.#queue.length === 1) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    if (this.#alive && batch.length > 0) this.#worker.postMessage(batch);
  }
}
