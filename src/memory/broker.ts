/**
 * The {@link Broker} port in process: streams, durable pull consumers and KV buckets with the
 * JetStream semantics the engine relies on (nats-2.9-notes.md), on an injectable {@link Clock}.
 * @module
 */
import { resolveClock, type Clock } from "../broker/clock.js";
import type {
  Broker,
  ConsumerSpec,
  ConsumerState,
  Delivery,
  KvBucket,
  KvOptions,
  PublishAck,
  PublishOptions,
  PullOptions,
  StoredMessage,
  StreamSpec,
  StreamState,
} from "../broker/port.js";
import { EbindError } from "../task/errors.js";
import { consumerGone, MemoryConsumer } from "./consumer.js";
import { DEFAULT_MEMORY_KV_HISTORY, MAX_MEMORY_KV_HISTORY, MemoryKvBucket } from "./kv.js";
import { runPull } from "./pull.js";
import { MemoryStream, resolveStreamSpec } from "./stream.js";
import { filterFitsStream } from "../broker/subjects.js";
import { checkSubject, patternsOverlap } from "./subjects.js";

/** The largest message {@link memoryBroker} accepts when not told otherwise: 1 MiB, nats-server's default. */
export const DEFAULT_MEMORY_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** The ack wait of a consumer whose spec gives 0 or less: 30 s, nats-server's default. */
export const DEFAULT_MEMORY_ACK_WAIT_MS = 30_000;

/** Options of {@link memoryBroker}. */
export interface MemoryBrokerOptions {
  /** Where time comes from; a `ManualClock` makes ack waits, nak delays, pull expiry, max age and the duplicate window testable without sleeping. @default systemClock */
  readonly clock?: Clock | undefined;
  /** Largest payload `publish` accepts, in bytes; larger ones fail with `payload_too_large`. @default 1_048_576 (1 MiB, as nats-server) */
  readonly maxPayloadBytes?: number | undefined;
}

/** Counts of what a {@link MemoryBroker} holds, after releasing what has expired. For tests and diagnostics. */
export interface MemoryBrokerStats {
  readonly streams: number;
  /** Messages stored across streams. */
  readonly messages: number;
  /** Deliveries outstanding across consumers (not acked, terminated or given up on). */
  readonly pending: number;
  /** Message ids remembered for dedupe across streams. */
  readonly dedupeIds: number;
  /** Pulls waiting for messages. */
  readonly waitingPulls: number;
  /** Consumers with a wake-up timer set. */
  readonly consumerTimers: number;
  /** KV entries held across buckets, all kept revisions. */
  readonly kvEntries: number;
  /** Open KV watches. */
  readonly kvWatchers: number;
}

/**
 * The in-process broker. Everything lives in this object; nothing is persisted. Prefer
 * {@link memoryBroker} to construct it.
 */
export class MemoryBroker implements Broker {
  /** Always `"memory"`. */
  readonly kind = "memory";
  /** An aborted pull ends at once: nothing lingers. */
  readonly lingeringPulls = false;
  /** The largest payload `publish` accepts, in bytes (see {@link MemoryBrokerOptions.maxPayloadBytes}). */
  readonly maxPayloadBytes: number;
  readonly #clock: Clock;
  readonly #streams = new Map<string, MemoryStream>();
  readonly #buckets = new Map<string, MemoryKvBucket>();
  #closed = false;

  constructor(options: MemoryBrokerOptions = {}) {
    this.#clock = resolveClock(options.clock, "memoryBroker.clock");
    const max = options.maxPayloadBytes ?? DEFAULT_MEMORY_MAX_PAYLOAD_BYTES;
    if (!Number.isInteger(max) || max <= 0) {
      throw new EbindError("invalid_argument", `memoryBroker: maxPayloadBytes must be an integer > 0, got ${max}`);
    }
    this.maxPayloadBytes = max;
  }

  /**
   * Creates or updates a stream. Refused (`invalid_argument`) like nats-server refuses it: subjects
   * overlapping another stream's (NATS 10065), a change of retention, a duplicate window longer than
   * the max age. Replicas are only reported (`keepMoreReplicas` as on NATS); storage is ignored.
   */
  async ensureStream(spec: StreamSpec): Promise<void> {
    this.#checkOpen();
    checkName(spec.name, "stream name");
    if (spec.subjects.length === 0) throw new EbindError("invalid_argument", `stream ${spec.name}: subjects must not be empty`);
    for (const subject of spec.subjects) checkSubject(subject, `stream ${spec.name}`, true);
    for (const other of this.#streams.values()) {
      if (other.spec.name === spec.name) continue;
      for (const a of spec.subjects) {
        for (const b of other.spec.subjects) {
          if (patternsOverlap(a, b)) throw new EbindError("invalid_argument", `stream ${spec.name}: subjects overlap with an existing stream (${other.spec.name})`);
        }
      }
    }
    const resolved = resolveStreamSpec(spec);
    const existing = this.#streams.get(spec.name);
    if (existing === undefined) {
      this.#streams.set(spec.name, new MemoryStream(resolved, this.#clock));
      return;
    }
    if (existing.spec.retention !== resolved.retention) {
      throw new EbindError("invalid_argument", `stream ${spec.name}: can not change retention policy`);
    }
    existing.spec = spec.keepMoreReplicas && existing.spec.replicas > resolved.replicas ? { ...resolved, replicas: existing.spec.replicas } : resolved;
    existing.sweep();
  }

  /**
   * The stream's state after expiring old messages, or null when missing. As on JetStream (notes §5),
   * an emptied stream's `firstSeq` is `lastSeq + 1`, and sequences are never reused.
   */
  async streamState(name: string): Promise<StreamState | null> {
    this.#checkOpen();
    return this.#streams.get(name)?.state() ?? null;
  }

  /**
   * Creates the durable or updates its filter, ack wait, max deliver and max ack pending (the
   * deliver policy of an existing consumer is kept; its cursor is not reset: notes §3).
   * Refused like nats-server: a filter outside the stream's subjects (`invalid_argument`, NATS 10093);
   * on a work-queue stream a second unfiltered consumer (10099), a filter overlapping another
   * consumer's (10100) or deliver policy `new` (10101).
   * @throws EbindError `not_found` when the stream is missing.
   */
  async ensureConsumer(stream: string, spec: ConsumerSpec): Promise<void> {
    this.#checkOpen();
    const s = this.#stream(stream);
    checkName(spec.durable, "consumer durable name");
    const filter = spec.filterSubject;
    const where = `consumer ${stream}/${spec.durable}`;
    if (filter !== "") {
      checkSubject(filter, where, true);
      if (!filterFitsStream(filter, s.spec.subjects)) {
        throw new EbindError("invalid_argument", `${where}: consumer filter subject is not a valid subset of the interest subjects`);
      }
    }
    const normalized: ConsumerSpec = { ...spec, ackWaitMs: spec.ackWaitMs > 0 ? spec.ackWaitMs : DEFAULT_MEMORY_ACK_WAIT_MS };
    const existing = s.consumers.get(spec.durable);
    if (s.spec.retention === "workqueue") {
      for (const other of s.consumers.values()) {
        if (other === existing) continue;
        if (filter === "") {
          throw new EbindError("invalid_argument", `${where}: multiple non-filtered consumers not allowed on workqueue stream`);
        }
        if (other.spec.filterSubject === "" || patternsOverlap(filter, other.spec.filterSubject)) {
          throw new EbindError("invalid_argument", `${where}: filtered consumer not unique on workqueue stream`);
        }
      }
      if (existing === undefined && spec.deliverPolicy === "new") {
        throw new EbindError("invalid_argument", `${where}: consumer must be deliver all on workqueue stream`);
      }
    }
    if (existing !== undefined) existing.update(normalized);
    else s.consumers.set(spec.durable, new MemoryConsumer(s, normalized, this.#clock));
  }

  /** The durable's spec as held (deliver policy filled in), or null. @throws EbindError `not_found` when the stream is missing. */
  async consumerSpec(stream: string, durable: string): Promise<ConsumerSpec | null> {
    this.#checkOpen();
    const consumer = this.#stream(stream).consumers.get(durable);
    return consumer === undefined ? null : { ...consumer.spec, deliverPolicy: consumer.spec.deliverPolicy ?? "all" };
  }

  /**
   * The durable's counts now (see {@link Broker.consumerState}), or null when there is no such durable.
   * @throws EbindError `not_found` when the stream is missing.
   */
  async consumerState(stream: string, durable: string): Promise<ConsumerState | null> {
    this.#checkOpen();
    return this.#stream(stream).consumers.get(durable)?.state() ?? null;
  }

  /** Deletes the durable; its waiting pulls end with `not_found`. False when it did not exist. */
  async deleteConsumer(stream: string, durable: string): Promise<boolean> {
    this.#checkOpen();
    const s = this.#streams.get(stream);
    const consumer = s?.consumers.get(durable);
    if (s === undefined || consumer === undefined) return false;
    s.consumers.delete(durable);
    consumer.close(consumerGone(stream, durable));
    return true;
  }

  /**
   * Stores `data` in the stream capturing `subject`. A `msgId` seen inside the stream's duplicate
   * window (even after the original was acked and removed) returns `{duplicate: true, seq: original}`
   * and stores nothing (notes item 7). `timeoutMs` is accepted and unused: nothing here waits.
   * @throws EbindError `payload_too_large` over {@link maxPayloadBytes}; `not_found` when no stream
   *   captures the subject; `invalid_argument` for a subject with wildcards or empty tokens.
   */
  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    this.#checkOpen();
    if (data.length > this.maxPayloadBytes) {
      throw new EbindError(
        "payload_too_large",
        `publish ${subject}: message of ${data.length} bytes exceeds the server's max payload of ${this.maxPayloadBytes} bytes`,
      );
    }
    checkSubject(subject, "publish", false);
    for (const s of this.#streams.values()) {
      if (!s.captures(subject)) continue;
      // As JetStream: a publish naming another stream in Nats-Expected-Stream is refused, not stored.
      const expected = options.headers?.["Nats-Expected-Stream"];
      if (expected !== undefined && expected !== s.spec.name) {
        throw new EbindError("invalid_argument", `publish ${subject}: expected stream does not match (${JSON.stringify(expected)}, stored by ${s.spec.name})`);
      }
      return s.store(subject, data, options.msgId, options.headers);
    }
    throw new EbindError("not_found", `publish ${subject}: no stream captures this subject (call ensureStreams first)`);
  }

  /**
   * Pulls up to `max` deliveries, yielding each as it is assigned; ends at `max`, after `expiresMs`
   * on the broker's clock, when `signal` aborts, or when the broker closes. Pulls on one durable share
   * its messages (round robin, each message to one pull).
   * @throws EbindError `not_found` (when iterated) if the consumer does not exist or is deleted meanwhile.
   */
  pull(stream: string, durable: string, options: PullOptions): AsyncIterable<Delivery> {
    return runPull(
      () => {
        this.#checkOpen();
        const consumer = this.#streams.get(stream)?.consumers.get(durable);
        if (consumer === undefined) throw new EbindError("not_found", `consumer ${stream}/${durable} not found`);
        return consumer;
      },
      this.#clock,
      options,
    );
  }

  /** The message at `seq`, or null. @throws EbindError `not_found` when the stream is missing. */
  async getMessage(stream: string, seq: number): Promise<StoredMessage | null> {
    this.#checkOpen();
    const s = this.#stream(stream);
    s.sweep();
    const msg = s.messages.get(seq);
    if (msg === undefined) return null;
    return { seq, subject: msg.subject, data: msg.data.slice(), time: new Date(msg.time), headers: new Map(msg.headers) };
  }

  /** Deletes the message at `seq`; false when there was none. @throws EbindError `not_found` when the stream is missing. */
  async deleteMessage(stream: string, seq: number): Promise<boolean> {
    this.#checkOpen();
    const s = this.#stream(stream);
    s.sweep();
    return s.remove(seq);
  }

  /** Removes every message, or those on `subject` (wildcards allowed); returns how many. @throws EbindError `not_found` when the stream is missing. */
  async purgeStream(stream: string, options: { subject?: string } = {}): Promise<number> {
    this.#checkOpen();
    const s = this.#stream(stream);
    s.sweep();
    if (options.subject !== undefined) checkSubject(options.subject, `purge ${stream}`, true);
    return s.purge(options.subject);
  }

  /**
   * Opens the bucket, creating it when missing. `history` (1–64, default 1) is the number of
   * revisions kept per key; reopening with a `history` changes it. `replicas` is ignored.
   * @throws EbindError `invalid_argument` for a bad bucket name or history.
   */
  async kv(bucket: string, options: KvOptions = {}): Promise<KvBucket> {
    this.#checkOpen();
    if (!/^[-\w]+$/.test(bucket)) throw new EbindError("invalid_argument", `kv: invalid bucket name ${JSON.stringify(bucket)}`);
    const history = options.history ?? DEFAULT_MEMORY_KV_HISTORY;
    if (!Number.isInteger(history) || history < 1 || history > MAX_MEMORY_KV_HISTORY) {
      throw new EbindError("invalid_argument", `kv ${bucket}: history must be an integer in 1..${MAX_MEMORY_KV_HISTORY}, got ${history}`);
    }
    let b = this.#buckets.get(bucket);
    if (b === undefined) {
      b = new MemoryKvBucket(bucket, history, this.#clock, () => this.#checkOpen(), this.maxPayloadBytes);
      this.#buckets.set(bucket, b);
    } else if (options.history !== undefined) {
      b.setHistory(history);
    }
    return b;
  }

  /**
   * What the broker holds right now, after releasing expired messages and dedupe ids. Lets tests show
   * that acked, terminated and expired messages are released and memory stays bounded.
   */
  stats(): MemoryBrokerStats {
    let messages = 0;
    let pending = 0;
    let dedupeIds = 0;
    let waitingPulls = 0;
    let consumerTimers = 0;
    for (const s of this.#streams.values()) {
      s.sweep();
      messages += s.messages.size;
      dedupeIds += s.dedupeIds;
      for (const c of s.consumers.values()) {
        pending += c.pendingCount;
        waitingPulls += c.waitingCount;
        if (c.hasTimer) consumerTimers++;
      }
    }
    let kvEntries = 0;
    let kvWatchers = 0;
    for (const b of this.#buckets.values()) {
      kvEntries += b.entryCount;
      kvWatchers += b.watcherCount;
    }
    return { streams: this.#streams.size, messages, pending, dedupeIds, waitingPulls, consumerTimers, kvEntries, kvWatchers };
  }

  /** Ends pulls and watches, clears timers; later calls fail with `closed`. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#streams.values()) for (const c of s.consumers.values()) c.close();
    for (const b of this.#buckets.values()) b.close();
  }

  /** `await using broker = memoryBroker()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #stream(name: string): MemoryStream {
    const s = this.#streams.get(name);
    if (s === undefined) throw new EbindError("not_found", `stream ${name} not found`);
    return s;
  }

  #checkOpen(): void {
    if (this.#closed) throw new EbindError("closed", "memory broker: closed");
  }
}

const NAME_BYTES = new TextEncoder();

/**
 * A stream or consumer name as JetStream accepts it: non-empty, at most 255 UTF-8 bytes, none of
 * whitespace, `.`, `*`, `>`, `/`, `\\` or NUL (the last three name files in the server's store).
 */
function checkName(name: string, what: string): void {
  if (name.length === 0 || /[\s.*>/\\]/.test(name) || name.includes("\u0000")) throw new EbindError("invalid_argument", `${what} ${JSON.stringify(name)} is invalid`);
  const bytes = NAME_BYTES.encode(name).length;
  if (bytes > 255) throw new EbindError("invalid_argument", `${what} of ${bytes} bytes is too long, maximum allowed is 255`);
}

/**
 * Creates an in-process {@link Broker} with JetStream's semantics where the engine relies on them
 * (DESIGN.md §5): for tests and machines without NATS.
 * @example
 * const clock = new ManualClock();
 * const broker = memoryBroker({ clock });
 * await ensureStreams(broker);
 */
export function memoryBroker(options: MemoryBrokerOptions = {}): MemoryBroker {
  return new MemoryBroker(options);
}
