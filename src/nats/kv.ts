/**
 * The KV port on NATS KV. Compare-and-set conflicts (API code 10071) become `EbindError` code
 * `conflict`; DEL and PURGE markers read as absent (nats-2.9-notes.md §4, item 9).
 * @module
 */
import { Kvm, KvWatchInclude, type KV, type KvEntry as NatsKvEntry } from "@nats-io/kv";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { KvBucket, KvEntry, KvOptions, KvWatchOptions } from "../broker/port.js";
import { EbindError } from "../task/errors.js";
import { mapNatsError } from "./errors.js";

function toEntry(e: NatsKvEntry): KvEntry {
  return { key: e.key, value: e.value, revision: e.revision, operation: e.operation, createdAt: e.created };
}

/** Direct gets in flight at once while listing entries. */
const ENTRY_READS_IN_FLIGHT = 64;

class NatsKvBucket implements KvBucket {
  constructor(
    readonly name: string,
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
  ) {}

  async get(key: string): Promise<KvEntry | null> {
    try {
      const e = await this.kv.get(key);
      return e && e.operation === "PUT" ? toEntry(e) : null;
    } catch (err) {
      throw mapNatsError(err, `kv ${this.name} get ${key}`);
    }
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    try {
      return await this.kv.create(key, value);
    } catch (err) {
      throw mapNatsError(err, `kv ${this.name} create ${key}`);
    }
  }

  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    if (!Number.isInteger(expectedRevision) || expectedRevision <= 0) {
      // The client would throw a plain Error("version must be greater than 0"): say it as ours.
      throw new EbindError("invalid_argument", `kv ${this.name} update ${key}: expectedRevision must be an integer > 0, got ${expectedRevision}`);
    }
    try {
      return await this.kv.update(key, value, expectedRevision);
    } catch (err) {
      throw mapNatsError(err, `kv ${this.name} update ${key}`);
    }
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    try {
      return await this.kv.put(key, value);
    } catch (err) {
      throw mapNatsError(err, `kv ${this.name} put ${key}`);
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
      // (minutes): a tool that lists often would pile them up. Remove it now, best effort.
      void removeWatchConsumer(iter);
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

async function removeWatchConsumer(iter: object): Promise<void> {
  const consumer = (iter as { _data?: { delete?: () => Promise<boolean> } })._data;
  try {
    await consumer?.delete?.();
  } catch {
    // already gone, or the connection closed: the server's inactive threshold removes it
  }
}

/** Opens the bucket, creating it with the given replicas and history when it does not exist. */
export async function openKv(nc: NatsConnection, bucket: string, options: KvOptions = {}): Promise<KvBucket> {
  try {
    const kvm = new Kvm(nc);
    const kv = await kvm.create(bucket, { replicas: options.replicas ?? 1, history: options.history ?? 1 });
    return new NatsKvBucket(bucket, kv, await jetstreamManager(nc));
  } catch (err) {
    throw mapNatsError(err, `kv ${bucket}`);
  }
}
