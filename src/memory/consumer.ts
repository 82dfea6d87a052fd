/**
 * A durable pull consumer in process, with JetStream's delivery rules (nats-2.9-notes.md §1, §2 and
 * leading items 4–6):
 * - first deliveries in stream order from a cursor, redeliveries (ack wait expired, or nak'ed and due)
 *   before new messages;
 * - every redelivery increments the delivery count; after `maxDeliver` deliveries a message is no
 *   longer redelivered and leaves the pending set, but stays in the stream (item 6);
 * - `maxAckPending` bounds pending deliveries, nak-delayed ones included, and only holds back new
 *   messages (item 5);
 * - ack and term are not fenced per delivery (item 4); on a work-queue stream both remove the message.
 *
 * Pending state is evaluated against the clock whenever something happens (a pull arrives, a
 * message is published, a delivery is settled) and by one wake-up timer, set only while a pull waits.
 * @module
 */
import type { Clock, TimerHandle } from "../broker/clock.js";
import type { ConsumerSpec, ConsumerState } from "../broker/port.js";
import { EbindError } from "../task/errors.js";
import { MemoryDelivery, type DeliveryTarget } from "./delivery.js";
import type { PullWaiter } from "./pull.js";
import type { MemoryMessage, MemoryStream } from "./stream.js";
import { subjectMatches } from "./subjects.js";

/** `maxAckPending` when the spec names none: nats-server 2.9's default. */
export const DEFAULT_MEMORY_MAX_ACK_PENDING = 1000;

interface Pending {
  deliveryCount: number;
  /** When it is redelivered (ack wait expiry, or the end of a nak delay), ms since the epoch. */
  dueAt: number;
}

/** A durable consumer of one {@link MemoryStream}. */
export class MemoryConsumer implements DeliveryTarget {
  spec: ConsumerSpec;
  /** The next stream sequence to deliver for the first time. */
  #cursor: number;
  readonly #pending = new Map<number, Pending>();
  #waiting: PullWaiter[] = [];
  #wake: TimerHandle | undefined;
  #wakeAt = Infinity;

  constructor(
    private readonly stream: MemoryStream,
    spec: ConsumerSpec,
    private readonly clock: Clock,
  ) {
    this.spec = spec;
    this.#cursor = spec.deliverPolicy === "new" ? stream.lastSeq + 1 : 1;
  }

  /** Deliveries outstanding (delivered, not acked or terminated, not given up on). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Pulls waiting for messages. */
  get waitingCount(): number {
    return this.#waiting.length;
  }

  /** Whether the wake-up timer is set. */
  get hasTimer(): boolean {
    return this.#wake !== undefined;
  }

  /**
   * Counts as JetStream's consumer info gives them: messages after the cursor matching the filter,
   * outstanding deliveries (a message out of deliveries and past its ack wait no longer counts, nor
   * one gone from the stream), those of them delivered more than once, and waiting pulls.
   */
  state(): ConsumerState {
    const now = this.clock.now();
    this.stream.sweep(now);
    const filter = this.spec.filterSubject;
    let pending = 0;
    for (const msg of this.stream.messages.values()) {
      if (msg.seq >= this.#cursor && (filter === "" || subjectMatches(filter, msg.subject))) pending++;
    }
    const maxDeliver = this.spec.maxDeliver > 0 ? this.spec.maxDeliver : Infinity;
    let ackPending = 0;
    let redelivered = 0;
    for (const [seq, p] of this.#pending) {
      if (!this.stream.messages.has(seq) || (p.deliveryCount >= maxDeliver && p.dueAt <= now)) continue;
      ackPending++;
      if (p.deliveryCount > 1) redelivered++;
    }
    return { pending, ackPending, redelivered, waiting: this.#waiting.length };
  }

  /** Applies an updated spec; the cursor and pending deliveries are kept (as nats-server 2.9 does, notes §3). */
  update(spec: ConsumerSpec): void {
    this.spec = { ...spec, deliverPolicy: this.spec.deliverPolicy };
    this.pump();
  }

  addWaiter(waiter: PullWaiter): void {
    this.#waiting.push(waiter);
    this.pump();
  }

  removeWaiter(waiter: PullWaiter): void {
    this.#waiting = this.#waiting.filter((w) => w !== waiter);
    if (this.#waiting.length === 0) this.#clearWake();
  }

  /** Ends every waiting pull (with `error`, they throw it) and clears the timer. */
  close(error?: EbindError): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const waiter of waiting) waiter.end(error);
    this.#clearWake();
  }

  ack(seq: number): void {
    this.#pending.delete(seq);
    if (this.stream.spec.retention === "workqueue") this.stream.remove(seq);
    this.pump();
  }

  term(seq: number): void {
    this.ack(seq);
  }

  nak(seq: number, delayMs: number): void {
    const p = this.#pending.get(seq);
    if (p === undefined) return;
    p.dueAt = this.clock.now() + delayMs;
    this.pump();
  }

  working(seq: number): void {
    const p = this.#pending.get(seq);
    if (p !== undefined) p.dueAt = this.clock.now() + this.spec.ackWaitMs;
  }

  /** The message at `seq` left the stream: forget its pending delivery. */
  forget(seq: number): void {
    this.#pending.delete(seq);
  }

  /** Hands due redeliveries, then new messages, to waiting pulls; sets the wake-up timer for the next due one. */
  pump(): void {
    if (this.#waiting.length === 0) return;
    const now = this.clock.now();
    this.stream.sweep(now);
    const maxDeliver = this.spec.maxDeliver > 0 ? this.spec.maxDeliver : Infinity;
    const maxAckPending = this.spec.maxAckPending === undefined ? DEFAULT_MEMORY_MAX_ACK_PENDING : this.spec.maxAckPending;
    const limit = maxAckPending > 0 ? maxAckPending : Infinity;
    const due = [...this.#pending].filter(([, p]) => p.dueAt <= now).sort(([a, p], [b, q]) => p.dueAt - q.dueAt || a - b);
    for (const [seq, p] of due) {
      if (this.#waiting.length === 0) break;
      const msg = this.stream.messages.get(seq);
      if (msg === undefined || p.deliveryCount >= maxDeliver) {
        // Gone, or out of deliveries: no longer pending; a work-queue stream keeps it (notes item 6).
        this.#pending.delete(seq);
        continue;
      }
      p.deliveryCount++;
      p.dueAt = now + this.spec.ackWaitMs;
      this.#hand(new MemoryDelivery(msg, p.deliveryCount, this));
    }
    while (this.#waiting.length > 0 && this.#pending.size < limit) {
      const msg = this.#nextNew();
      if (msg === undefined) break;
      this.#pending.set(msg.seq, { deliveryCount: 1, dueAt: now + this.spec.ackWaitMs });
      this.#hand(new MemoryDelivery(msg, 1, this));
    }
    this.#scheduleWake();
  }

  #nextNew(): MemoryMessage | undefined {
    const filter = this.spec.filterSubject;
    for (; this.#cursor <= this.stream.lastSeq; this.#cursor++) {
      const msg = this.stream.messages.get(this.#cursor);
      if (msg !== undefined && (filter === "" || subjectMatches(filter, msg.subject))) {
        this.#cursor++;
        return msg;
      }
    }
    return undefined;
  }

  /** Gives the delivery to the first waiting pull, which then goes to the back of the line (round robin). */
  #hand(delivery: MemoryDelivery): void {
    const waiter = this.#waiting.shift();
    if (waiter === undefined) return;
    waiter.push(delivery);
    if (waiter.remaining > 0) this.#waiting.push(waiter);
  }

  /** While a pull waits, wake at the earliest due pending delivery (a redelivery, or a slot freed by giving up on one). */
  #scheduleWake(): void {
    let next = Infinity;
    if (this.#waiting.length > 0) for (const p of this.#pending.values()) next = Math.min(next, p.dueAt);
    if (next === this.#wakeAt) return;
    this.#clearWake();
    if (next === Infinity) return;
    this.#wakeAt = next;
    this.#wake = this.clock.setTimer(() => {
      this.#wake = undefined;
      this.#wakeAt = Infinity;
      this.pump();
    }, next - this.clock.now());
  }

  #clearWake(): void {
    if (this.#wake !== undefined) this.clock.clearTimer(this.#wake);
    this.#wake = undefined;
    this.#wakeAt = Infinity;
  }
}

/** The error a pull ends with when its consumer is deleted. */
export function consumerGone(stream: string, durable: string): EbindError {
  return new EbindError("not_found", `consumer ${stream}/${durable} was deleted`);
}
