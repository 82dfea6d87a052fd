/**
 * The KV port on NATS KV. Compare-and-set conflicts (API code 10071) become `EbindError` code
 * `conflict`; DEL and PURGE markers read as absent (nats-2.9-notes.md §4, item 9).
 * @module
 */
import { Kvm, KvWatchInclude, type KV, type KvEntry as NatsKvEntry } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { KvBucket, KvEntry, KvOptions, KvWatchOptions } from "../broker/port.js";
import { EbindError } from "../task/errors.js";
import { mapNatsError } from "./errors.js";

function toEntry(e: NatsKvEntry): KvEntry {
  return { key: e.key, value: e.value, revision: e.revision, operation: e.operation, createdAt: e.created };
}

class NatsKvBucket implements KvBucket {
  constructor(
    readonly name: string,
    private readonly kv: KV,
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

  async keys(filter?: string): Promise<string[]> {
    try {
      const out: string[] = [];
      for await (const key of await this.kv.keys(filter)) out.push(key);
      return out;
    } catch (err) {
      throw mapNatsError(err, `kv ${this.name} keys`);
    }
  }

  async *watch(options: KvWatchOptions = {}): AsyncGenerator<KvEntry> {
    const include =
      options.include === "all" ? KvWatchInclude.AllHistory : options.include === "updates" ? KvWatchInclude.UpdatesOnly : KvWatchInclude.LastValue;
    const iter = await this.kv.watch({ key: options.key ?? ">", include });
    const stop = (): void => iter.stop();
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
      for await (const e of iter) yield toEntry(e);
    } finally {
      options.signal?.removeEventListener("abort", stop);
      iter.stop();
    }
  }
}

/** Opens the bucket, creating it with the given replicas and history when it does not exist. */
export async function openKv(nc: NatsConnection, bucket: string, options: KvOptions = {}): Promise<KvBucket> {
  try {
    const kvm = new Kvm(nc);
    const kv = await kvm.create(bucket, { replicas: options.replicas ?? 1, history: options.history ?? 1 });
    return new NatsKvBucket(bucket, kv);
  } catch (err) {
    throw mapNatsError(err, `kv ${bucket}`);
  }
}
