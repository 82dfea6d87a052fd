/**
 * The {@link Broker} port on NATS JetStream. Each operation lives in its own file; this class only
 * holds the connection and delegates.
 * @module
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type {
  Broker,
  ConsumerSpec,
  ConsumerState,
  Delivery,
  HeartbeatOptions,
  Heartbeats,
  KvBucket,
  KvOptions,
  PublishAck,
  PublishOptions,
  PullOptions,
  StoredMessage,
  StreamSpec,
  StreamState,
} from "../broker/port.js";
import type { NatsThreadConnectOptions } from "./heartbeat-thread.js";
import { NatsHeartbeats, positiveMs } from "./heartbeats.js";
import { resolveLogger } from "../broker/logger.js";
import { consumerSpec, consumerState, deleteConsumer, ensureConsumer } from "./consumers.js";
import { openKv } from "./kv.js";
import { onMaxDeliveries } from "./advisories.js";
import { deleteMessage, getMessage, purgeStream } from "./messages.js";
import { publish } from "./publish.js";
import { PubAckMux } from "./pub-acks.js";
import { PermissionViolations } from "./permission-violations.js";
import { ConsumerCache, pull } from "./pull.js";
import { SettleBatch } from "./settle-batch.js";
import { TickBarrier } from "./tick-barrier.js";
import { ensureStream, streamState } from "./streams.js";

/** How long close waits for the acknowledgements of publishes in flight (each also times out on its own). */
const CLOSE_WAIT_FOR_ACKS_MS = 5000;

/** A {@link Broker} over one NATS connection. Create it with `connectNats` or {@link NatsBroker.fromConnection}. */
export class NatsBroker implements Broker {
  readonly kind = "nats";
  readonly lingeringPulls = true;
  readonly maxPayloadBytes: number;
  readonly #js: JetStreamClient;
  readonly #consumers: ConsumerCache;
  /** Acks, naks, terms and in-progress acks of this broker's deliveries, sent once per event-loop turn. */
  readonly #settles = new SettleBatch();
  /** Publishes start together after the current microtasks, so they share a socket write. */
  readonly #writes = new TickBarrier();
  readonly #acks: PubAckMux;
  /** Heartbeat threads started by {@link startHeartbeats} and not closed yet. */
  readonly #heartbeats = new Set<NatsHeartbeats>();
  #closed: Promise<void> | undefined;

  private constructor(
    /** The underlying connection, for callers that need core NATS. */
    readonly connection: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly ownsConnection: boolean,
    private readonly threadConnect: NatsThreadConnectOptions | undefined,
  ) {
    this.#js = jetstream(connection);
    this.#consumers = new ConsumerCache(this.#js, this.#settles, this.#violations);
    this.#acks = new PubAckMux(connection);
    this.maxPayloadBytes = connection.info?.max_payload ?? 1024 * 1024;
    void this.#followStatus();
  }

  /** False from a disconnect until the client reconnected, and once the connection is closed. */
  #connected = true;
  /** The server's permissions violations, from the status events (pulls fail on their own). */
  readonly #violations = new PermissionViolations();

  get connected(): boolean {
    return this.#connected && !this.connection.isClosed();
  }

  /** Follows the connection's status events (the iterator ends when the connection closes). */
  async #followStatus(): Promise<void> {
    try {
      for await (const status of this.connection.status()) {
        if (status.type === "disconnect") this.#connected = false;
        else if (status.type === "reconnect") this.#connected = true;
        else if (status.type === "error") this.#violations.report(status.error);
      }
    } catch {
      // the connection closed
    }
    this.#connected = false;
  }

  /**
   * Wraps an open connection. With `ownsConnection` (default false) {@link close} also drains it.
   * `threadConnect` says how a worker thread can open its own connection to the same servers with the
   * same auth (plain data: it is copied to the thread); without it {@link startHeartbeats} returns
   * undefined and in-progress acks are the main thread's to send. `connectNats` sets it.
   * @throws EbindError `unavailable` when JetStream is not enabled on the server.
   */
  static async fromConnection(
    connection: NatsConnection,
    options: { ownsConnection?: boolean; threadConnect?: NatsThreadConnectOptions } = {},
  ): Promise<NatsBroker> {
    const jsm = await jetstreamManager(connection);
    return new NatsBroker(connection, jsm, options.ownsConnection ?? false, options.threadConnect);
  }

  ensureStream(spec: StreamSpec): Promise<void> {
    return ensureStream(this.jsm, spec);
  }

  streamState(name: string): Promise<StreamState | null> {
    return streamState(this.jsm, name);
  }

  async ensureConsumer(stream: string, spec: ConsumerSpec): Promise<void> {
    await ensureConsumer(this.jsm, stream, spec);
    this.#consumers.forget(stream, spec.durable);
  }

  consumerSpec(stream: string, durable: string): Promise<ConsumerSpec | null> {
    return consumerSpec(this.jsm, stream, durable);
  }

  /** The durable's counts from one consumer info request (see {@link Broker.consumerState}). */
  consumerState(stream: string, durable: string): Promise<ConsumerState | null> {
    return consumerState(this.jsm, stream, durable);
  }

  async deleteConsumer(stream: string, durable: string): Promise<boolean> {
    this.#consumers.forget(stream, durable);
    return deleteConsumer(this.jsm, stream, durable);
  }

  async publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishAck> {
    await this.#writes.wait();
    return publish(this.#acks, subject, data, options, this.maxPayloadBytes);
  }

  pull(stream: string, durable: string, options: PullOptions): AsyncIterable<Delivery> {
    return pull(this.#consumers, stream, durable, options);
  }

  getMessage(stream: string, seq: number): Promise<StoredMessage | null> {
    return getMessage(this.jsm, stream, seq);
  }

  deleteMessage(stream: string, seq: number): Promise<boolean> {
    return deleteMessage(this.jsm, stream, seq);
  }

  purgeStream(stream: string, options: { subject?: string } = {}): Promise<number> {
    return purgeStream(this.jsm, stream, options.subject);
  }

  kv(bucket: string, options?: KvOptions): Promise<KvBucket> {
    return openKv(this.connection, this.#acks, bucket, options);
  }

  /**
   * Starts a heartbeat thread: a `worker_threads` Worker with its own connection (the options
   * `connectNats` was given, or `threadConnect` of {@link fromConnection}) that sends the in-progress
   * acks of tracked deliveries while this thread's event loop is blocked (DESIGN.md §4). Returns
   * undefined, after logging why, when there are no thread connect options (a broker over a user's
   * connection), when the broker is closed, or when the options cannot be copied to a thread; the
   * caller then sends `working()` itself. {@link close} closes every sender this started.
   * @throws EbindError `invalid_argument` when `everyMs` is not a positive number.
   */
  onMaxDeliveries(stream: string, durable: string, group: string, onMessage: (streamSeq: number) => void): () => void {
    return onMaxDeliveries(this.connection, stream, durable, group, onMessage);
  }

  startHeartbeats(options: HeartbeatOptions): Heartbeats | undefined {
    positiveMs(options.everyMs, "everyMs");
    const logger = resolveLogger(options.logger, "heartbeats.logger");
    if (this.threadConnect === undefined || this.#closed !== undefined) {
      logger.debug("heartbeats: no heartbeat thread (a user's connection, or the broker is closed); in-progress acks stay on the main thread");
      return undefined;
    }
    let heartbeats: NatsHeartbeats;
    try {
      heartbeats = new NatsHeartbeats(this.threadConnect, { ...options, logger });
    } catch (err) {
      logger.warn({ error: (err as Error).message }, "heartbeats: no heartbeat thread; in-progress acks stay on the main thread");
      return undefined;
    }
    this.#heartbeats.add(heartbeats);
    void heartbeats.exited.then(() => this.#heartbeats.delete(heartbeats));
    return heartbeats;
  }

  /**
   * Waits (up to 5 s) for the acknowledgements of publishes in flight, so each reports what the stream
   * did; then drains the connection if this broker opened it (pending acks and publishes are flushed); when
   * draining fails, as it does while the server is unreachable, the connection is closed outright so
   * no reconnect timer keeps the process alive. The heartbeat threads of {@link startHeartbeats} are
   * closed alongside (each drains its own connection and exits). Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  async #shutdown(): Promise<void> {
    const heartbeats = Promise.all([...this.#heartbeats].map((h) => h.close()));
    this.#settles.flush();
    // Publishes in flight learn their fate first: a drain would drop the acknowledgements' subscription.
    await this.#acks.idle(CLOSE_WAIT_FOR_ACKS_MS);
    if (!this.ownsConnection) this.#acks.close();
    if (this.ownsConnection && !this.connection.isClosed()) {
      try {
        await this.connection.drain();
      } catch {
        await this.connection.close().catch(() => undefined);
      }
    }
    await heartbeats;
  }
}
