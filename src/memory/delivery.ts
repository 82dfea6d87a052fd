/**
 * One delivery of a memory-stream message. Like a JetStream delivery, its acks are not fenced: an
 * ack from an expired delivery still acks the message's current copy (nats-2.9-notes.md item 4).
 * @module
 */
import type { Delivery, Settlement } from "../broker/port.js";
import type { MemoryMessage } from "./stream.js";

/** What a delivery settles against: its consumer. */
export interface DeliveryTarget {
  ack(seq: number): void;
  nak(seq: number, delayMs: number): void;
  term(seq: number): void;
  working(seq: number): void;
}

/** A {@link Delivery} of the memory backend; settles once, `working` may repeat until settled. */
export class MemoryDelivery implements Delivery {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly deliveryCount: number;
  readonly streamSeq: number;
  readonly msgId: string | undefined;
  readonly storedAtMs: number;
  readonly #headers: ReadonlyMap<string, string>;
  #settled = false;

  constructor(
    message: MemoryMessage,
    deliveryCount: number,
    private readonly target: DeliveryTarget,
  ) {
    this.subject = message.subject;
    this.data = message.data.slice();
    this.deliveryCount = deliveryCount;
    this.streamSeq = message.seq;
    this.msgId = message.msgId;
    this.storedAtMs = message.time;
    this.#headers = message.headers;
  }

  header(name: string): string | undefined {
    return this.#headers.get(name) || undefined;
  }

  /** How it was settled (see {@link Delivery.settlement}). */
  settlement: Settlement | undefined;

  ack(): void {
    if (this.#settle("ack", 0)) this.target.ack(this.streamSeq);
  }

  nak(delayMs?: number): void {
    const delay = delayMs !== undefined && delayMs > 0 ? delayMs : 0;
    if (this.#settle("nak", delay)) this.target.nak(this.streamSeq, delay);
  }

  term(): void {
    if (this.#settle("term", 0)) this.target.term(this.streamSeq);
  }

  working(): void {
    if (!this.#settled) this.target.working(this.streamSeq);
  }

  #settle(kind: Settlement["kind"], delayMs: number): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.settlement = { kind, delayMs };
    return true;
  }
}
