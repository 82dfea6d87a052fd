/**
 * JetStream publish acknowledgements over one wildcard inbox subscription.
 *
 * `js.publish` goes through the client's generic request path, which on every successful request
 * builds and throws away an Error with a captured stack (its `cancel` rejects an already-settled
 * promise with a fresh `RequestError`), plus a timer and a `Promise.race`. Profiles of the
 * request/response benchmark put that at about 10 % of a worker's and a producer's CPU. Publishing
 * the JetStream way by hand is small: send the message with a reply subject under one
 * subscription of ours, and match the acknowledgement by its token. Timeouts are found by one
 * sweep timer, not one timer per publish.
 *
 * The acknowledgement is the server's usual reply to a publish captured by a stream (reference
 * nats-2.9-notes): `{"stream":…,"seq":…,"duplicate":true?}` or `{"error":{…}}`; a status 503 with no
 * body means no stream (or no stream leader) answered. Errors are the client's own types
 * (`TimeoutError`, `NoRespondersError`, `JetStreamApiError`, `ClosedConnectionError`), so the
 * mapping in errors.ts applies unchanged.
 *
 * The same inbox serves other JetStream requests whose replies are read by the caller
 * ({@link PubAckMux.request}): the KV port's direct gets (`kv.ts`), for the same reason.
 * @module
 */
import { JetStreamApiError, type ApiError } from "@nats-io/jetstream";
import type { PublishAck } from "../broker/port.js";
import { createInbox, errors as coreErrors, headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";

interface Pending {
  readonly subject: string;
  readonly deadline: number;
  /** Handles the reply (it may reject); a "no responders" status never reaches it. */
  settle(msg: Msg): void;
  reject(err: Error): void;
}

/** How often outstanding publishes are checked for a timeout, in ms. */
const SWEEP_EVERY_MS = 100;
const MSG_ID = "Nats-Msg-Id";
const utf8 = new TextDecoder();

/** The acknowledgement a publish's reply holds, or the error it reports. */
function readAck(subject: string, msg: Msg): PublishAck | Error {
  let body: { stream?: unknown; seq?: unknown; duplicate?: unknown; error?: ApiError };
  try {
    body = JSON.parse(utf8.decode(msg.data)) as typeof body;
  } catch (err) {
    return new Error(`publish ${subject}: unreadable acknowledgement`, { cause: err });
  }
  if (body.error) return new JetStreamApiError(body.error);
  if (typeof body.stream !== "string" || typeof body.seq !== "number") return new Error(`publish ${subject}: acknowledgement without stream and sequence`);
  return { stream: body.stream, seq: body.seq, duplicate: body.duplicate === true };
}

/** Publishes into JetStream and resolves each publish with the server's acknowledgement. */
export class PubAckMux {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #pending = new Map<string, Pending>();
  #sub: Subscription | undefined;
  #next = 0;
  #sweeper: NodeJS.Timeout | undefined;
  #idleWaiters: Array<() => void> = [];

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#prefix = `${createInbox()}.`;
    void nc.closed().then(() => this.#failAll(new coreErrors.ClosedConnectionError()));
  }

  /**
   * Publishes `data` on `subject` (with `Nats-Msg-Id: msgId` when given) and resolves with where the
   * stream stored it. Rejects with `TimeoutError` after `timeoutMs` without an acknowledgement,
   * `NoRespondersError` when no stream captured it, `JetStreamApiError` when the stream refused it,
   * or what the client throws for the publish itself (a closed connection, a too large payload).
   */
  publish(subject: string, data: Uint8Array, msgId: string | undefined, timeoutMs: number, extra?: Readonly<Record<string, string>>): Promise<PublishAck> {
    return new Promise<PublishAck>((resolve, reject) => {
      const settle = (msg: Msg): void => {
        const ack = readAck(subject, msg);
        if (ack instanceof Error) reject(ack);
        else resolve(ack);
      };
      this.#send(subject, data, msgId === undefined ? extra : { ...extra, [MSG_ID]: msgId }, timeoutMs, settle, reject);
    });
  }

  /**
   * Sends a request on `subject` and resolves with the reply as it came (headers and status
   * included). Rejects with `TimeoutError` after `timeoutMs`, `NoRespondersError` when nothing
   * listens, or what the client throws for the publish itself.
   */
  request(subject: string, data: Uint8Array, timeoutMs: number, extra?: Readonly<Record<string, string>>): Promise<Msg> {
    return new Promise<Msg>((resolve, reject) => this.#send(subject, data, extra, timeoutMs, resolve, reject));
  }

  #send(subject: string, data: Uint8Array, extra: Readonly<Record<string, string>> | undefined, timeoutMs: number, settle: (msg: Msg) => void, reject: (err: Error) => void): void {
    if (this.#nc.isClosed() || this.#sub?.isClosed()) {
      reject(new coreErrors.ClosedConnectionError());
      return;
    }
    this.#sub ??= this.#subscribe();
    const token = (this.#next++).toString(36);
    this.#pending.set(token, { subject, deadline: Date.now() + timeoutMs, settle, reject });
    try {
      const options: { reply: string; headers?: ReturnType<typeof headers> } = { reply: this.#prefix + token };
      if (extra !== undefined) {
        const h = headers();
        for (const name in extra) h.set(name, extra[name]!);
        options.headers = h;
      }
      this.#nc.publish(subject, data, options);
    } catch (err) {
      this.#pending.delete(token);
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_EVERY_MS).unref();
  }

  /**
   * Resolves once no publish awaits its acknowledgement, or after `maxWaitMs`. Closing waits for this
   * first, so a publish the stream stored is reported as stored, not as failed by the close.
   */
  idle(maxWaitMs: number): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, maxWaitMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Rejects every outstanding publish with `ClosedConnectionError` and stops listening. */
  close(): void {
    this.#sub?.unsubscribe();
    this.#failAll(new coreErrors.ClosedConnectionError());
  }

  #subscribe(): Subscription {
    return this.#nc.subscribe(`${this.#prefix}*`, { callback: (err, msg) => (err ? undefined : this.#settle(msg)) });
  }

  #settle(msg: Msg): void {
    const token = msg.subject.slice(this.#prefix.length);
    const pending = this.#pending.get(token);
    if (!pending) return; // timed out already
    this.#pending.delete(token);
    if (this.#pending.size === 0) this.#wakeIdle();
    // A status 503 without a body: no stream (or stream leader) took the publish, nobody answered the request.
    if (msg.data.length === 0 && msg.headers?.code === 503) pending.reject(new coreErrors.NoRespondersError(pending.subject));
    else pending.settle(msg);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [token, pending] of this.#pending) {
      if (pending.deadline > now) continue;
      this.#pending.delete(token);
      pending.reject(new coreErrors.TimeoutError());
    }
    if (this.#pending.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
    if (this.#pending.size === 0) this.#wakeIdle();
  }

  #wakeIdle(): void {
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  #failAll(err: Error): void {
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#wakeIdle();
  }
}
