/**
 * The KV port on NATS KV. Compare-and-set conflicts (API code 10071) become `EbindError` code
 * `conflict`; DEL and PURGE markers read as absent (nats-2.9-notes.md §4, item 9).
 *
 * Reads, writes and compare-and-sets — the workflow engine's hot path, several per step — go out
 * through the broker's reply multiplexer (`pub-acks.ts`) instead of the client's generic request
 * path, the way task publishes do: a write is a JetStream publish to `$KV.<bucket>.<key>` (with
 * `Nats-Expected-Last-Subject-Sequence` for a compare-and-set; 0 for a create), a read is a direct
 * get of the key's last message (`$JS.API.DIRECT.GET.KV_<bucket>.$KV.<bucket>.<key>`, nats-server
 * 2.9). The same messages the client sends, minus its per-request stack capture, timer and promise
 * race (issue 14: the client's `RequestError` alone was 4 % of the worker's CPU in scenario 5). A
 * bucket without direct gets (created elsewhere with `allow_direct` off) is read through the client.
 * A replicated bucket is read from its stream's leader (`$JS.API.STREAM.MSG.GET`): every replica
 * answers direct gets, and a follower that has not applied the latest writes yet answers with the
 * value before them, or "no such key" for a key just created (issue 16: an await right after a
 * submit on a 3-node cluster failed `dag_not_found` about once in a hundred). The leader has
 * applied every write it acknowledged. Listings, watches and deletes stay with the client.
 * @module
 */
import { Bucket, Kvm, KvWatchInclude, type KV, type KvEntry as NatsKvEntry } from "@nats-io/kv";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import type { KvBucket, KvEntry, KvOptions, KvWatchOptions } from "../broker/port.js";
import { EbindError } from "../task/errors.js";
import { mapNatsError } from "./errors.js";
import type { PubAckMux } from "./pub-acks.js";

function toEntry(e: NatsKvEntry): KvEntry {
  return { key: e.key, value: e.value, revision: e.revision, operation: e.operation, createdAt: e.created };
}

/** Direct gets in flight at once while listing entries. */
const ENTRY_READS_IN_FLIGHT = 64;
/** How long a read or write waits for the server's reply: the client's default JetStream timeout. */
const KV_TIMEOUT_MS = 5000;
const EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence";
/** The client's key rules: letters, digits and `-/_=.` (no leading or trailing dot, checked apart). */
const VALID_KEY = /^[-/=.\w]+$/;
const empty = new Uint8Array(0);

class NatsKvBucket implements KvBucket {
  readonly #prefix: string;
  readonly #directGet: string | undefined;

  /**
   * @param leaderReads read from the stream's leader (a replicated bucket: see the module comment).
   */
  constructor(
    readonly name: string,
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly replies: PubAckMux,
    private readonly leaderReads: boolean,
  ) {
    this.#prefix = `$KV.${name}.`;
    const direct = kv instanceof Bucket && kv.direct;
    this.#directGet = direct ? `$JS.API.DIRECT.GET.KV_${name}.` : undefined;
  }

  async get(key: string): Promise<KvEntry | null> {
    this.#validate(key, "get");
    try {
      if (this.leaderReads) {
        const last = await this.#leaderRead(key);
        return last?.operation === "PUT" ? last : null;
      }
      if (this.#directGet === undefined) {
        const e = await this.kv.get(key);
        return e && e.operation === "PUT" ? toEntry(e) : null;
      }
      return this.#entryOf(key, await this.replies.request(this.#directGet + this.#prefix + key, empty, KV_TIMEOUT_MS));
    } catch (err) {
      throw mapNatsError(err, `kv ${this.name} get ${key}`);
    }
  }

  /**
   * Creates the key: a write expecting no earlier message for it. A key whose last message is a
   * delete or purge marker counts as absent (as the client's `create` has it): it is written over
   * the marker's revision.
   */
  async create(key: string, value: Uint8Array): Promise<number> {
    this.#validate(key, "create");
    try {
      return await this.#write(key, value, 0);
    } catch (err) {
      const mapped = mapNatsError(err, `kv ${this.name} create ${key}`);
      if (mapped.code !== "conflict") throw mapped;
      let marker: NatsKvEntry | KvEntry | null;
      try {
        marker = this.leaderReads ? await this.#leaderRead(key) : await this.kv.get(key);
      } catch (readErr) {
        throw mapNatsError(readErr, `kv ${this.name} create ${key}`);
      }
      if (marker === null || marker.operation === "PUT") throw mapped;
      return this.update(key, value, marker.revision);
    }
  }

  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    if (!Number.isInteger(expectedRevision) || expectedRevision <= 0) {
      throw new EbindError("invalid_argument", `kv ${this.name} update ${key}: expectedRevision must be an integer > 0, got ${expectedRevision}`);
    }
    this.#validate(key, "update");
    try {
      return await this.#write(key, value, expectedRevision);
    } catch (err) {
      throw mapNatsError(err, `kv ${this.name} update ${key}`);
    }
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    this.#validate(key, "put");
    try {
      return await this.#write(key, value, undefined);
    } catch (err) {
      throw mapNatsError(err, `kv ${this.name} put ${key}`);
    }
  }

  /** Publishes the value; with `expected`, only if the key's last revision is that (0: none). */
  async #write(key: string, value: Uint8Array, expected: number | undefined): Promise<number> {
    const headers = expected === undefined ? undefined : { [EXPECTED_LAST_SUBJECT_SEQ]: String(expected) };
    return (await this.replies.publish(this.#prefix + key, value, undefined, KV_TIMEOUT_MS, headers)).seq;
  }

  /** The key's last message, read from the stream's leader (a PUT, or a delete or purge marker), or null. */
  async #leaderRead(key: string): Promise<KvEntry | null> {
    const m = await this.jsm.streams.getMessage(`KV_${this.name}`, { last_by_subj: this.#prefix + key });
    if (m === null) return null;
    const operation = (m.header?.get("KV-Operation") || "PUT") as KvEntry["operation"];
    return { key, value: m.data, revision: m.seq, operation, createdAt: m.time };
  }

  /** The entry a direct get's reply holds; null for "not found" and for a delete or purge marker. */
  #entryOf(key: string, msg: Msg): KvEntry | null {
    const h = msg.headers;
    const status = h?.code ?? 0;
    if (status === 404) return null;
    if (status !== 0 || h === undefined) throw new Error(`direct get: status ${status} ${h?.description ?? ""}`.trim());
    const operation = h.get("KV-Operation") || "PUT";
    if (operation !== "PUT") return null;
    if (h.get("Nats-Subject") !== this.#prefix + key) return null; // as the client: another key's message is no answer
    const revision = Number(h.get("Nats-Sequence"));
    if (!Number.isSafeInteger(revision) || revision <= 0) throw new Error(`direct get: no sequence in the reply (${h.get("Nats-Sequence")})`);
    return { key, value: msg.data, revision, operation: "PUT", createdAt: new Date(h.get("Nats-Time-Stamp")) };
  }

  /** Refuses a key the client's rules refuse ({@link VALID_KEY}). */
  #validate(key: string, op: string): void {
    if (key.startsWith(".") || key.endsWith(".") || !VALID_KEY.test(key)) {
      throw new EbindError("invalid_argument", `kv ${this.name} ${op}: invalid key ${JSON.stringify(key)}`);
    }
  }

  async delete(key: string, options: { expectedRevision?: number } = {}): Promise<void> {
    try {
      await this.kv.delete(key, options.expectedRevision === undefined ? undefined : { previousSeq: options.expectedRevision });
    } catch (err) {
      throw mapNatsError(err, `kv ${this.name} delete ${key}`);
    }
  }

  /**
   * The client's `kv.keys()` iterates an ordered consumer until its pending count reaches 0, which
   * writes landing meanwhile can postpone for its whole 30 s expiry (seen under a busy scheduler).
   * So the keys come from the stream's per-subject counts (one request; tombstones included), and
   * the entries from direct gets in parallel, which also drop deleted keys.
   */
  async entries(filter = ">"): Promise<KvEntry[]> {
    let subjects: string[];
    try {
      const info = await this.jsm.streams.info(`KV_${this.name}`, { subjects_filter: `$KV.${this.name}.${filter}` });
      subjects = Object.keys(info.state.subjects ?? {});
    } catch (err) {
      throw mapNatsError(err, `kv ${this.name} entries`);
    }
    const prefix = `$KV.${this.name}.`.length;
    const out: KvEntry[] = [];
    for (let i = 0; i < subjects.length; i += ENTRY_READS_IN_FLIGHT) {
      const batch = await Promise.all(subjects.slice(i, i + ENTRY_READS_IN_FLIGHT).map((subject) => this.get(subject.slice(prefix))));
      for (const e of batch) if (e) out.push(e);
    }
    return out.sort((a, b) => a.revision - b.revision);
  }

  async keys(filter?: string): Promise<string[]> {
    return (await this.entries(filter)).map((e) => e.key);
  }

  async *watch(options: KvWatchOptions = {}): AsyncGenerator<KvEntry> {
    const include =
      options.include === "all" ? KvWatchInclude.AllHistory : options.include === "updates" ? KvWatchInclude.UpdatesOnly : KvWatchInclude.LastValue;
    const iter = await this.kv.watch({ key: options.key ?? ">", include });
    // The client created the watch's consumer before returning: changes from now on are delivered.
    options.onReady?.();
    let caughtUp = false;
    const markCaughtUp = (): void => {
      if (caughtUp) return;
      caughtUp = true;
      options.onCaughtUp?.();
    };
    const stop = (): void => iter.stop();
    options.signal?.addEventListener("abort", stop, { once: true });
    if (options.onCaughtUp && (await initialCount(iter)) === 0) markCaughtUp();
    if (options.signal?.aborted) stop();
    try {
      for await (const e of iter) {
        yield toEntry(e);
        // The client marks the last entry of the initial part, and every later one, as an update.
        if (e.isUpdate) markCaughtUp();
      }
    } finally {
      options.signal?.removeEventListener("abort", stop);
      iter.stop();
      // The client leaves the watch's ephemeral consumer on the server until its inactive threshold
      // (minutes): a tool that lists often would pile them up. Remove it now, best effort, and wait
      // for the server's answer: newer servers (2.15.3) serve JetStream API requests from a pool of
      // goroutines, info requests on their own queue, so a removal sent and not awaited can still be
      // pending when the caller's next request (a stream info, say) is answered. 2.9 served them in order.
      await removeWatchConsumer(iter);
    }
  }
}

/**
 * How many entries the watch's initial part holds: the client's push consumer (kept on the
 * iterator) reports its pending count as of creation, which is what the client counts against.
 * Undefined if a client version stops keeping it there; the caller then waits for the first entry.
 */
async function initialCount(iter: object): Promise<number | undefined> {
  const consumer = (iter as { _data?: { info?: (cached: boolean) => Promise<{ num_pending: number }> } })._data;
  if (typeof consumer?.info !== "function") return undefined;
  try {
    return (await consumer.info(true)).num_pending;
  } catch {
    return undefined;
  }
}

/** How long the end of a watch waits for its consumer's removal (a server that is down must not hold it). */
const WATCH_REMOVAL_WAIT_MS = 1000;

async function removeWatchConsumer(iter: object): Promise<void> {
  const consumer = (iter as { _data?: { delete?: () => Promise<boolean> } })._data;
  const removal = (async () => {
    try {
      await consumer?.delete?.();
    } catch {
      // already gone, or the connection closed: the server's inactive threshold removes it
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([removal, new Promise<void>((resolve) => (timer = setTimeout(resolve, WATCH_REMOVAL_WAIT_MS)))]);
  clearTimeout(timer);
}

/** Attempts of {@link openKv} when the create loses a race (timeout, not found): 4 (about 15 s at most). */
const OPEN_ATTEMPTS = 4;

/**
 * Opens the bucket, creating it with the given replicas and history when it does not exist. An
 * existing bucket with fewer replicas than asked for is scaled up (never down: a process asking
 * for one replica leaves a replicated bucket as it is). Reads and writes go through `replies`, the
 * broker's reply multiplexer (see the module comment).
 *
 * Several processes creating one new replicated bucket at once (every worker of a fresh deployment
 * opens the lease bucket as it starts): on nats-server 2.9.10 and 2.15.3 the creates that lose the
 * race may go unanswered (a `timeout` after the request timeout) or find no stream (`not_found`)
 * while the winner's stream forms. Those two are tried again, up to 4 attempts in all; the bucket
 * is there by then (test/integration/nats/kv-create-race.test.ts).
 * @throws EbindError mapped from the last failure, `kv <bucket>: <message>`.
 */
export async function openKv(nc: NatsConnection, replies: PubAckMux, bucket: string, options: KvOptions = {}): Promise<KvBucket> {
  const replicas = options.replicas ?? 1;
  for (let attempt = 1; ; attempt++) {
    try {
      const kvm = new Kvm(nc);
      const kv = await kvm.create(bucket, { replicas, history: options.history ?? 1 });
      const jsm = await jetstreamManager(nc);
      const actual = await replicatedTo(jsm, `KV_${bucket}`, replicas);
      return new NatsKvBucket(bucket, kv, jsm, replies, actual > 1);
    } catch (err) {
      const mapped = mapNatsError(err, `kv ${bucket}`);
      const lostRace = mapped.code === "timeout" || mapped.code === "not_found";
      if (!lostRace || attempt >= OPEN_ATTEMPTS || nc.isClosed()) throw mapped;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/** How long {@link replicatedTo} waits for the new replicas to catch up before going on regardless. */
const SCALE_UP_WAIT_MS = 10_000;

/**
 * The stream's replicas, after scaling it up to `replicas` when it had fewer (a bucket made by an
 * older version, or by a process asking for fewer) and waiting (up to 10 s) until it has a leader
 * and every replica is current: writes made while the new group forms time out.
 */
async function replicatedTo(jsm: JetStreamManager, stream: string, replicas: number): Promise<number> {
  const info = await jsm.streams.info(stream);
  const current = info.config.num_replicas ?? 1;
  if (current >= replicas) return current;
  await jsm.streams.update(stream, { ...info.config, num_replicas: replicas });
  await caughtUp(jsm, stream, replicas);
  return replicas;
}

/** Waits (up to {@link SCALE_UP_WAIT_MS}) until the stream has a leader and `replicas - 1` current followers; then goes on regardless. */
async function caughtUp(jsm: JetStreamManager, stream: string, replicas: number): Promise<void> {
  const until = Date.now() + SCALE_UP_WAIT_MS;
  while (Date.now() < until) {
    const { cluster } = await jsm.streams.info(stream).catch(() => ({ cluster: undefined }));
    const followers = cluster?.replicas ?? [];
    if (cluster?.leader && followers.length >= replicas - 1 && followers.every((r) => r.current)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
