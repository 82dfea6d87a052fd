/**
 * One stream in process: messages by sequence, the duplicate window, max-age expiry and the
 * consumers reading it. Mirrors JetStream's stream semantics as measured in nats-2.9-notes.md §1, §5
 * and leading item 7.
 * @module
 */
import type { Clock } from "../broker/clock.js";
import type { PublishAck, Retention, StreamSpec, StreamState } from "../broker/port.js";
import { EbindError } from "../task/errors.js";
import type { MemoryConsumer } from "./consumer.js";
import { subjectMatches } from "./subjects.js";

/** The duplicate window when a stream names none: 2 min, like nats-server (notes item 7). */
export const DEFAULT_MEMORY_DUPLICATE_WINDOW_MS = 120_000;

/** The header a message id travels in, as on JetStream. */
export const MSG_ID_HEADER = "Nats-Msg-Id";

/** A stored message. `time` is ms since the epoch, read from the broker's clock. */
export interface MemoryMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly time: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly msgId: string | undefined;
}

/** A stream's settings after defaults. */
export interface ResolvedStreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly retention: Retention;
  /** 0: no limit. */
  readonly maxAgeMs: number;
  readonly duplicateWindowMs: number;
  /** As configured; one process holds every copy, so it only reports them. */
  readonly replicas: number;
}

/**
 * Applies nats-server's defaults: the duplicate window is 2 min, or the max age when that is shorter;
 * an explicit window longer than the max age is refused (as nats-server refuses it).
 * @throws EbindError `invalid_argument`.
 */
export function resolveStreamSpec(spec: StreamSpec): ResolvedStreamSpec {
  const maxAgeMs = spec.maxAgeMs > 0 ? spec.maxAgeMs : 0;
  let duplicateWindowMs = spec.duplicateWindowMs ?? 0;
  if (!Number.isFinite(duplicateWindowMs) || duplicateWindowMs < 0) {
    throw new EbindError("invalid_argument", `stream ${spec.name}: duplicateWindowMs must be ≥ 0, got ${duplicateWindowMs}`);
  }
  if (duplicateWindowMs === 0) {
    duplicateWindowMs = maxAgeMs > 0 ? Math.min(maxAgeMs, DEFAULT_MEMORY_DUPLICATE_WINDOW_MS) : DEFAULT_MEMORY_DUPLICATE_WINDOW_MS;
  } else if (maxAgeMs > 0 && duplicateWindowMs > maxAgeMs) {
    throw new EbindError("invalid_argument", `stream ${spec.name}: duplicate window can not be larger than max age`);
  }
  return { name: spec.name, subjects: [...spec.subjects], retention: spec.retention, maxAgeMs, duplicateWindowMs, replicas: spec.replicas };
}

/** A stream: an ordered log of messages plus the ids seen inside the duplicate window. */
export class MemoryStream {
  spec: ResolvedStreamSpec;
  /** Live messages by sequence, in sequence order (a Map keeps insertion order). */
  readonly messages = new Map<number, MemoryMessage>();
  readonly consumers = new Map<string, MemoryConsumer>();
  lastSeq = 0;
  bytes = 0;
  /** Message id → original sequence and time, oldest first. */
  readonly #dedupe = new Map<string, { readonly seq: number; readonly at: number }>();

  constructor(
    spec: ResolvedStreamSpec,
    private readonly clock: Clock,
  ) {
    this.spec = spec;
  }

  /** Whether the stream captures `subject`. */
  captures(subject: string): boolean {
    return this.spec.subjects.some((pattern) => subjectMatches(pattern, subject));
  }

  /** Stores a message, or reports the original when `msgId` was seen inside the duplicate window. */
  store(subject: string, data: Uint8Array, msgId: string | undefined, extra?: Readonly<Record<string, string>>): PublishAck {
    const now = this.clock.now();
    this.sweep(now);
    if (msgId !== undefined) {
      const seen = this.#dedupe.get(msgId);
      if (seen !== undefined) return { stream: this.spec.name, seq: seen.seq, duplicate: true };
    }
    const seq = ++this.lastSeq;
    const headers = new Map<string, string>(Object.entries(extra ?? {}));
    if (msgId !== undefined) {
      headers.set(MSG_ID_HEADER, msgId);
      this.#dedupe.set(msgId, { seq, at: now });
    }
    this.messages.set(seq, { seq, subject, data: data.slice(), time: now, headers, msgId });
    this.bytes += sizeOf(subject, data, headers);
    for (const consumer of this.consumers.values()) consumer.pump();
    return { stream: this.spec.name, seq, duplicate: false };
  }

  /** Drops messages older than the max age and message ids older than the duplicate window. */
  sweep(now = this.clock.now()): void {
    if (this.spec.maxAgeMs > 0) {
      for (const msg of this.messages.values()) {
        if (now - msg.time < this.spec.maxAgeMs) break; // time order = sequence order
        this.remove(msg.seq);
      }
    }
    for (const [id, seen] of this.#dedupe) {
      if (now - seen.at < this.spec.duplicateWindowMs) break;
      this.#dedupe.delete(id);
    }
  }

  /** Removes the message at `seq` (and every consumer's pending delivery of it); false when absent. */
  remove(seq: number): boolean {
    const msg = this.messages.get(seq);
    if (msg === undefined) return false;
    this.messages.delete(seq);
    this.bytes -= sizeOf(msg.subject, msg.data, msg.headers);
    for (const consumer of this.consumers.values()) consumer.forget(seq);
    return true;
  }

  /** Removes every message, or those whose subject matches `filter`; returns how many. */
  purge(filter?: string): number {
    let purged = 0;
    for (const msg of [...this.messages.values()]) {
      if (filter !== undefined && !subjectMatches(filter, msg.subject)) continue;
      if (this.remove(msg.seq)) purged++;
    }
    return purged;
  }

  /** How many message ids are remembered for dedupe (memory-bound evidence). */
  get dedupeIds(): number {
    return this.#dedupe.size;
  }

  state(): StreamState {
    this.sweep();
    const first = this.messages.keys().next();
    return {
      name: this.spec.name,
      messages: this.messages.size,
      bytes: this.bytes,
      // As JetStream: an empty stream's first sequence is one past its last.
      firstSeq: first.done ? (this.lastSeq === 0 ? 0 : this.lastSeq + 1) : first.value,
      lastSeq: this.lastSeq,
      consumers: this.consumers.size,
      replicas: this.spec.replicas,
    };
  }
}

/** Approximates JetStream's per-message storage size: subject, headers, payload and a fixed overhead. */
function sizeOf(subject: string, data: Uint8Array, headers: ReadonlyMap<string, string>): number {
  let size = 30 + subject.length + data.length;
  for (const [name, value] of headers) size += name.length + value.length + 16;
  return size;
}
