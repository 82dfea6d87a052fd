/**
 * Pulling from a durable consumer: one bounded fetch, yielding deliveries as they arrive.
 * Bounded fetches sized to free capacity (not a long-lived `consume()` with a large buffer) keep
 * messages from ageing in a client buffer against the ack wait, and a short expiry with idle
 * heartbeats recovers quickly when a consumer leader moves (nats-2.9-notes.md items 3 and 8).
 * @module
 */
import type { Consumer, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { Delivery, PullOptions, Settlement } from "../broker/port.js";
import { EbindError } from "../task/errors.js";
import { mapNatsError } from "./errors.js";
import type { PermissionViolations } from "./permission-violations.js";
import type { SettleBatch } from "./settle-batch.js";

const MSG_ID = "Nats-Msg-Id";

/**
 * Wraps a JetStream message as a {@link Delivery}; settles once, `working` may repeat.
 *
 * Besides the port's fields it carries {@link ackSubject} and {@link onSettle}, which the heartbeat
 * thread (heartbeats.ts) needs; other backends' deliveries have neither, so `Delivery` stays as it is.
 */
export class NatsDelivery implements Delivery {
  readonly subject: string;
  readonly data: Uint8Array;
  #settled = false;
  #onSettle: (() => void) | undefined;
  #settlement: Settlement | undefined;

  constructor(
    private readonly msg: JsMsg,
    private readonly batch: SettleBatch,
  ) {
    this.subject = msg.subject;
    this.data = msg.data;
  }

  /** Parsed from the reply subject on first use: clients and schedulers never read it. */
  get deliveryCount(): number {
    return this.msg.info.deliveryCount;
  }

  get streamSeq(): number {
    return this.msg.info.streamSequence;
  }

  /** The server's time when it stored the message (from the reply subject). */
  get storedAtMs(): number {
    return Math.floor(this.msg.info.timestampNanos / 1e6);
  }

  /** Read on demand: decoding the headers of every delivery cost 1 % of a worker's CPU. */
  get msgId(): string | undefined {
    return this.msg.headers?.get(MSG_ID) || undefined;
  }

  /**
   * The subject acks of this delivery are published to (`$JS.ACK.<stream>.<consumer>.…`): any
   * connection to the same account may send `+WPI` there to restart the ack wait, which is what
   * the heartbeat thread does. Empty when the message came without one.
   */
  get ackSubject(): string {
    // The client's message object has it (`JsMsgImpl.reply`), its `JsMsg` type does not name it.
    return (this.msg as JsMsg & { readonly reply?: string }).reply ?? "";
  }

  /** Whether `ack`, `nak` or `term` was called. */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Runs `fn` once, synchronously, when the delivery is first settled (before the ack is sent); one
   * callback, the last one set wins; `undefined` removes it. The heartbeat thread untracks with it.
   */
  onSettle(fn: (() => void) | undefined): void {
    this.#onSettle = fn;
  }

  header(name: string): string | undefined {
    return this.msg.headers?.get(name) || undefined;
  }

  get settlement(): Settlement | undefined {
    return this.#settlement;
  }

  ack(): void {
    if (this.#settle("ack", 0)) this.batch.push(() => this.msg.ack());
  }

  nak(delayMs?: number): void {
    const delay = delayMs !== undefined && delayMs > 0 ? Math.round(delayMs) : undefined;
    if (!this.#settle("nak", delay ?? 0)) return;
    this.batch.push(() => this.msg.nak(delay));
  }

  term(): void {
    // Never pass a reason: nats-server 2.9 ignores `+TERM <reason>` and redelivers (notes item 2).
    if (this.#settle("term", 0)) this.batch.push(() => this.msg.term());
  }

  working(): void {
    if (!this.#settled) this.batch.push(() => this.msg.working());
  }

  #settle(kind: Settlement["kind"], delayMs: number): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#settlement = { kind, delayMs };
    const fn = this.#onSettle;
    this.#onSettle = undefined;
    fn?.();
    return true;
  }
}

/** Caches consumer handles so a pull does not look the consumer up every time. */
export class ConsumerCache {
  readonly #consumers = new Map<string, Promise<Consumer>>();

  /**
   * `settles` batches the acks of every delivery pulled through this cache; `violations`, when
   * given, reports the server's refusals of pull requests (see permission-violations.ts).
   */
  constructor(
    private readonly js: JetStreamClient,
    readonly settles: SettleBatch,
    readonly violations?: PermissionViolations,
  ) {}

  get(stream: string, durable: string): Promise<Consumer> {
    const key = `${stream}\u0000${durable}`;
    let consumer = this.#consumers.get(key);
    if (!consumer) {
      consumer = this.js.consumers.get(stream, durable);
      consumer.catch(() => this.#consumers.delete(key));
      this.#consumers.set(key, consumer);
    }
    return consumer;
  }

  forget(stream: string, durable: string): void {
    this.#consumers.delete(`${stream}\u0000${durable}`);
  }
}

/** One bounded fetch. Errors are mapped to `EbindError` (`not_found` when the consumer is gone: see {@link pullError}). */
export async function* pull(cache: ConsumerCache, stream: string, durable: string, options: PullOptions): AsyncGenerator<Delivery> {
  if (options.signal?.aborted) return;
  let consumer: Consumer;
  try {
    consumer = await cache.get(stream, durable);
  } catch (err) {
    throw mapNatsError(err, `consumer ${stream}/${durable}`);
  }
  const expires = Math.max(1000, options.expiresMs);
  let messages: Awaited<ReturnType<Consumer["fetch"]>> | undefined;
  // Listen before awaiting the fetch: an abort that lands while it is being set up must end it at
  // once, not after `expires`.
  const onAbort = (): void => messages?.stop();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  // A pull request the user may not publish is refused only on the status stream: end the pull
  // with the server's words instead of waiting for an expiry that looks like an empty pull.
  const nextSubject = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`;
  let refused: Error | undefined;
  const stopListening = cache.violations?.listen((v) => {
    if (v.operation !== "publish" || v.subject !== nextSubject) return;
    refused = v.error;
    messages?.stop();
  });
  const started = Date.now();
  try {
    try {
      messages = await consumer.fetch({
        max_messages: Math.max(1, options.max),
        expires,
        // Half the expiry, as the client defaults to: two missed heartbeats end a fetch, and a fetch
        // ended early leaves its server-side request alive to take messages nobody will read.
        idle_heartbeat: Math.min(Math.max(500, Math.floor(expires / 2)), 15_000),
      });
    } catch (err) {
      throw await pullError(cache, stream, durable, err, options.signal);
    }
    if (options.signal?.aborted) return;
    if (refused !== undefined) messages.stop(); // refused while the fetch was being set up
    try {
      for await (const msg of messages) yield new NatsDelivery(msg, cache.settles);
      if (refused !== undefined) throw refused;
    } catch (err) {
      if (refused !== undefined) throw new EbindError("unavailable", `pull ${stream}/${durable}: ${refused.message}`, { cause: refused });
      const mapped = await pullError(cache, stream, durable, err, options.signal);
      // Heartbeats are half the expiry, so the client declares them missed at the expiry at the
      // soonest: with the durable still there, that is an expiry whose end notice came late (a
      // loaded or paused server), and the pull ends as an expiry does.
      if (mapped.code === "unavailable" && heartbeatsMissed(err) && Date.now() - started >= expires) {
        options.onUnconfirmedEnd?.();
        return;
      }
      throw mapped;
    }
  } finally {
    stopListening?.();
    options.signal?.removeEventListener("abort", onAbort);
    messages?.stop();
  }
}

function heartbeatsMissed(err: unknown): boolean {
  return err instanceof Error && /heartbeats missed/i.test(err.message);
}

/**
 * The error a failed pull throws: `not_found` when the durable is gone, whatever the server said
 * about it. A pull sent to a durable another process deleted ends on nats-server 2.9 with missed
 * heartbeats (after two heartbeat intervals) and on 2.15.3 at once with a 503 "no responders";
 * one waiting when the durable is deleted ends with a 409 "consumer deleted". All three read as
 * `unavailable` until the durable is looked up again, which also refreshes the cached handle.
 * Other errors (and any error once `signal` aborted) are mapped as they are.
 */
async function pullError(cache: ConsumerCache, stream: string, durable: string, err: unknown, signal: AbortSignal | undefined): Promise<EbindError> {
  cache.forget(stream, durable);
  const mapped = mapNatsError(err, `pull ${stream}/${durable}`);
  if (mapped.code !== "unavailable" || signal?.aborted) return mapped;
  try {
    await cache.get(stream, durable);
  } catch (lookupErr) {
    const lookup = mapNatsError(lookupErr, `consumer ${stream}/${durable}`);
    if (lookup.code === "not_found") return new EbindError("not_found", `${mapped.message}: ${lookup.message}`, { cause: err });
  }
  return mapped;
}
