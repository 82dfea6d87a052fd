/**
 * The broker port: what the engine needs from a message system, shaped after JetStream because that
 * is the production backend. Streams hold messages; durable consumers deliver them with ack, nak
 * with a delay, term and in-progress; a KV bucket offers compare-and-set and watch. The task queue,
 * response routing, dead letters and the workflow event queue are all built from these.
 *
 * Every backend (NATS in `src/nats/`, in-process in `src/memory/`) implements {@link Broker} and must
 * pass the contract suite beside this file. Durations are milliseconds; sizes are bytes.
 * @module
 */
import type { Logger } from "./logger.js";

/** How a stream keeps messages. `workqueue`: a message is removed once acked or terminated. */
export type Retention = "workqueue" | "limits";

/** A stream to create or update (reference §2.2). Only features of nats-server 2.9 are expressible. */
export interface StreamSpec {
  readonly name: string;
  /** Subjects captured by the stream, wildcards allowed (`TASKS.>`). */
  readonly subjects: readonly string[];
  readonly retention: Retention;
  /** Messages older than this are discarded; 0 means no limit. */
  readonly maxAgeMs: number;
  /** Replica count, 1 for a single node. */
  readonly replicas: number;
  /**
   * `replicas` is a floor: an existing stream with more keeps them. For callers not asked for a
   * number of replicas, which must never scale a replicated stream down. @default false
   */
  readonly keepMoreReplicas?: boolean | undefined;
  /** Window in which a repeated message id is reported as a duplicate; omitted: server default (2 min). */
  readonly duplicateWindowMs?: number | undefined;
  /** Storage; default `file`. */
  readonly storage?: "file" | "memory" | undefined;
}

/** The state of a stream. */
export interface StreamState {
  readonly name: string;
  readonly messages: number;
  readonly bytes: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly consumers: number;
  /** Replicas the stream is configured with (1 on the memory backend unless its spec said more). */
  readonly replicas: number;
}

/** A durable pull consumer to create or update (reference §2.3). */
export interface ConsumerSpec {
  /** Durable name, shared by every process that consumes with it (load balancing). */
  readonly durable: string;
  /** One subject filter (nats-server 2.9 has no multi-filter consumers); `""` for every subject of the stream. */
  readonly filterSubject: string;
  /** Time a delivery may stay unacknowledged before it is redelivered. */
  readonly ackWaitMs: number;
  /** Deliveries after which the server stops redelivering; -1 = unlimited. */
  readonly maxDeliver: number;
  /** Upper bound of deliveries outstanding across all processes (nak-delayed ones count). */
  readonly maxAckPending?: number | undefined;
  /** `all` (default) starts at the first message; `new` only sees messages published afterwards. */
  readonly deliverPolicy?: "all" | "new" | undefined;
  /** The server deletes the consumer after this long without a pull; omitted: never. */
  readonly inactiveThresholdMs?: number | undefined;
}

/**
 * What a durable consumer holds now, as the server counts it (JetStream consumer info). Counts are
 * of messages; a snapshot, already stale when it arrives.
 */
export interface ConsumerState {
  /** Messages matching the consumer's filter not yet delivered to it (NATS `num_pending`). */
  readonly pending: number;
  /**
   * Deliveries outstanding: delivered and neither acked nor terminated, nak-delayed ones included
   * (NATS `num_ack_pending`).
   */
  readonly ackPending: number;
  /** Of those outstanding, the ones delivered more than once (NATS `num_redelivered`). */
  readonly redelivered: number;
  /** Pull requests waiting at the server for messages (NATS `num_waiting`). */
  readonly waiting: number;
}

/** Options of {@link Broker.publish}. */
export interface PublishOptions {
  /** Message id for deduplication within the stream's duplicate window (`Nats-Msg-Id`). */
  readonly msgId?: string | undefined;
  /** Give up after this long; default: the backend's request timeout. */
  readonly timeoutMs?: number | undefined;
  /**
   * Message headers besides the message id (names as NATS spells them, values one string each).
   * ebind's own extensions go here: ebind for Go ignores headers it does not know.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** The stream's acknowledgement of a publish. */
export interface PublishAck {
  readonly stream: string;
  readonly seq: number;
  /** True when the message id was seen inside the duplicate window: nothing new was stored. */
  readonly duplicate: boolean;
}

/** A message as stored in a stream, read by sequence. */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly time: Date;
  readonly headers: ReadonlyMap<string, string>;
}

/**
 * One delivery of a stream message to a consumer. Exactly one of `ack`, `nak` or `term` settles
 * it; later calls are ignored. `working` extends the ack wait while a handler runs.
 */
export interface Delivery {
  readonly subject: string;
  readonly data: Uint8Array;
  /** 1 on the first delivery, incremented by every redelivery and nak. */
  readonly deliveryCount: number;
  readonly streamSeq: number;
  /** The `Nats-Msg-Id` the message was published with, if any. */
  readonly msgId: string | undefined;
  /**
   * When the stream stored the message, in ms since the epoch on the server's clock (NATS: the
   * message's timestamp). Workers measure relative deadlines from it, not from the producer's clock.
   */
  readonly storedAtMs: number;
  /** A header of the message (the first value), or undefined. */
  header(name: string): string | undefined;
  /** How this delivery was settled, once it was (`ack`, `nak` with its delay, `term`); undefined before. */
  readonly settlement?: Settlement | undefined;
  /** Done: a work-queue stream removes the message. */
  ack(): void;
  /** Redeliver, after `delayMs` (default: at once). */
  nak(delayMs?: number): void;
  /** Never redeliver; a work-queue stream removes the message. */
  term(): void;
  /** In progress: restart the ack wait. */
  working(): void;
}

/** Options of {@link Broker.startHeartbeats}. */
export interface HeartbeatOptions {
  /**
   * Interval between two in-progress acks of one tracked delivery, in ms; a positive number. Pick
   * it well below the consumer's ack wait (a third of it, as the worker's own timer does).
   */
  readonly everyMs: number;
  /**
   * Where failures of the heartbeat sender go (its connection cannot be opened or is lost): they are
   * logged, never thrown. @default consoleLogger("warn")
   */
  readonly logger?: Logger | undefined;
}

/** Options of {@link Heartbeats.track}. */
export interface TrackOptions {
  /** This delivery's interval, in ms, instead of {@link HeartbeatOptions.everyMs}. */
  readonly everyMs?: number | undefined;
  /**
   * Stop sending for this delivery after this long, in ms, even if it was never untracked, so a main
   * thread that is stuck for good does not hold the message forever. @default no limit
   */
  readonly forMs?: number | undefined;
}

/**
 * In-progress acks sent for deliveries from outside the caller's event loop, so they keep going
 * while a handler blocks the main thread (DESIGN.md §4, "Long handlers"). Returned by
 * {@link Broker.startHeartbeats}. A delivery is tracked until {@link untrack}, until it is settled
 * (`ack`, `nak`, `term`: it is untracked then too), or until its `forMs` ran out.
 */
export interface Heartbeats {
  /**
   * Starts sending in-progress acks for `delivery`, the first one `everyMs` from now. Returns false,
   * and sends nothing, when this sender cannot serve it (a delivery of another backend, one already
   * settled, or the sender is closed): the caller then keeps sending `working()` itself.
   * @throws EbindError `invalid_argument` when `everyMs` or `forMs` is not a positive number.
   */
  track(delivery: Delivery, options?: TrackOptions): boolean;
  /** Stops sending for `delivery`; a no-op when it is not tracked. */
  untrack(delivery: Delivery): void;
  /** Stops every heartbeat and the sender (its thread and connection); idempotent. */
  close(): Promise<void>;
}

/** How a delivery was settled. */
export interface Settlement {
  readonly kind: "ack" | "nak" | "term";
  /** The nak's delay, in ms (0: at once). */
  readonly delayMs: number;
}

/** Options of {@link Broker.pull}. */
export interface PullOptions {
  /** At most this many deliveries. */
  readonly max: number;
  /** End the pull after this long even if fewer than `max` arrived (≥ 1000 on NATS). */
  readonly expiresMs: number;
  /** Ends the pull early; deliveries already yielded stay valid. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Called when the pull ends at its expiry without word from the server (on NATS: its heartbeats
   * stopped, and the end notice never came), instead of an error: nothing says the pull was served,
   * e.g. while a consumer has no leader. Not called by a pull the server ended.
   */
  readonly onUnconfirmedEnd?: (() => void) | undefined;
}

/** A KV entry. Deleted keys are never returned by `get`; watches report them with `operation`. */
export interface KvEntry {
  readonly key: string;
  readonly value: Uint8Array;
  readonly revision: number;
  readonly operation: "PUT" | "DEL" | "PURGE";
  readonly createdAt: Date;
}

/** Options of {@link KvBucket.watch}. */
export interface KvWatchOptions {
  /** Key or wildcard pattern (`dag1.>`); default every key. */
  readonly key?: string | undefined;
  /** `last` (default): the latest entry of each key, then updates; `all`: every revision kept; `updates`: only new changes. */
  readonly include?: "last" | "all" | "updates" | undefined;
  readonly signal?: AbortSignal | undefined;
  /**
   * Called once the watch is established on the server (before any entry is yielded): a change
   * written after this call is delivered. Lets a caller that starts a watch and then acts know
   * that it cannot miss what follows.
   */
  readonly onReady?: (() => void) | undefined;
  /**
   * Called once the initial part of the watch (`last` or `all`) has been yielded and the consumer
   * asked for the next entry; at once, after `onReady`, when that part is empty or `include` is
   * `updates`. A caller that only wants the bucket's current state aborts the watch here.
   */
  readonly onCaughtUp?: (() => void) | undefined;
}

/** A key-value bucket with compare-and-set (the workflow store). */
export interface KvBucket {
  readonly name: string;
  /** The entry, or `null` when the key is missing or deleted. */
  get(key: string): Promise<KvEntry | null>;
  /** Creates the key; throws `EbindError` code `conflict` if it exists. Returns the revision. */
  create(key: string, value: Uint8Array): Promise<number>;
  /** Writes if the key's revision is `expectedRevision`; else throws code `conflict`. Returns the new revision. */
  update(key: string, value: Uint8Array, expectedRevision: number): Promise<number>;
  /** Writes unconditionally; returns the revision. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** Deletes (leaves a tombstone); with `expectedRevision`, only at that revision (else `conflict`). */
  delete(key: string, options?: { expectedRevision?: number }): Promise<void>;
  /** Keys that exist (not deleted), optionally matching a wildcard filter. */
  keys(filter?: string): Promise<string[]>;
  /** The current entries of the keys that exist (not deleted), optionally matching a wildcard filter. */
  entries(filter?: string): Promise<KvEntry[]>;
  /** Entries as they change; the iterator ends when `signal` aborts. */
  watch(options?: KvWatchOptions): AsyncIterable<KvEntry>;
}

/** Options of {@link Broker.kv}. */
export interface KvOptions {
  readonly replicas?: number | undefined;
  /** Revisions kept per key; default 1. */
  readonly history?: number | undefined;
}

/** A message system as the engine sees it. */
export interface Broker {
  /** `"nats"` or `"memory"`, for logs. */
  readonly kind: string;
  /** The largest message the server accepts, in bytes. */
  readonly maxPayloadBytes: number;
  /**
   * True when a pull the client stopped listening to can still be handed messages by the server
   * until it expires (NATS 2.9: the request lives on server-side). Consumers then drain a pull at
   * shutdown instead of abandoning it, or those messages wait out the ack wait.
   */
  readonly lingeringPulls: boolean;
  /**
   * Whether the connection to the server is up now (false while the client reconnects, and once
   * closed). Absent on a backend without one (the in-process memory backend): always up.
   */
  readonly connected?: boolean;
  /** Creates the stream or updates its configuration; idempotent. */
  ensureStream(spec: StreamSpec): Promise<void>;
  /** The stream's state, or `null` if it does not exist. */
  streamState(name: string): Promise<StreamState | null>;
  /** Creates the durable consumer or updates its configuration; throws code `not_found` if the stream is missing. */
  ensureConsumer(stream: string, spec: ConsumerSpec): Promise<void>;
  /**
   * The configuration of an existing durable as the server holds it, or `null` if there is none.
   * Other processes may have created it with other settings: read it before relying on them.
   * @throws EbindError `not_found` when the stream is missing.
   */
  consumerSpec(stream: string, durable: string): Promise<ConsumerSpec | null>;
  /**
   * Optional capability: the durable's counts now (for metrics), or `null` when there is no such
   * durable. One round trip on NATS (consumer info); give it a timeout of your own where a dead
   * server must not hang the caller.
   * @throws EbindError `not_found` when the stream is missing; `unavailable`/`timeout` when the server does not answer.
   */
  consumerState?(stream: string, durable: string): Promise<ConsumerState | null>;
  /** Deletes a consumer; false if it did not exist. */
  deleteConsumer(stream: string, durable: string): Promise<boolean>;
  /** Publishes into the stream that captures `subject`; throws code `not_found` when none does. */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishAck>;
  /**
   * Pulls up to `max` deliveries from a durable consumer, yielding each as it arrives, ending after
   * `expiresMs` or when `max` arrived. Throws code `not_found` if the consumer is gone.
   */
  pull(stream: string, durable: string, options: PullOptions): AsyncIterable<Delivery>;
  /** The message at `seq`, or `null`. */
  getMessage(stream: string, seq: number): Promise<StoredMessage | null>;
  /** Deletes the message at `seq`; false if there was none. */
  deleteMessage(stream: string, seq: number): Promise<boolean>;
  /** Removes all messages (or those on `subject`); returns how many. */
  purgeStream(stream: string, options?: { subject?: string }): Promise<number>;
  /** Opens (creating if needed) a KV bucket. */
  kv(bucket: string, options?: KvOptions): Promise<KvBucket>;
  /**
   * Optional capability: a sender of in-progress acks that keeps going while the caller's event loop
   * is blocked (on NATS a worker thread with its own connection). Absent, or returning undefined,
   * when the backend cannot offer it (the memory backend, whose ack wait runs on the blocked loop
   * itself; a NATS broker over a user's connection without thread connect options): the caller then
   * sends `working()` from its own timers. Each call starts a new sender; {@link close} closes them.
   * @throws EbindError `invalid_argument` when `everyMs` is not a positive number.
   */
  startHeartbeats?(options: HeartbeatOptions): Heartbeats | undefined;
  /**
   * Optional capability: calls `onMessage` with the stream sequence of each message the server gave
   * up redelivering because the consumer's max deliver was reached (NATS: the
   * `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<durable>` advisory). Processes that
   * subscribe with the same `group` share the advisories: each reaches one of them. Advisories sent
   * while no process listens are lost. Returns the function that stops listening.
   */
  onMaxDeliveries?(stream: string, durable: string, group: string, onMessage: (streamSeq: number) => void): () => void;
  /** Closes the connection; idempotent. Pulls in progress end. */
  close(): Promise<void>;
}
