/**
 * Counting what the engine asks of the broker: a {@link Broker} wrapper that counts every publish
 * (by stream, named from the subject's first token), pull, KV read, create, CAS update, put, delete,
 * listing and watch, and every conflict (a lost create or compare-and-set). KV keys of the workflow
 * bucket are named by kind (`meta`, `step`, `result`, `signal`) so the counts say what each op is
 * for. With `where: true` each op is also attributed to the first `src/` frame outside the broker
 * layers on its stack (slow: for one diagnostic run, not for timing).
 *
 * The wrapper delegates to the real broker; counts live in an {@link OpCounter} shared by every
 * broker of a process, and are sent to the parent as a plain object ({@link OpCounter.snapshot}).
 */
import type { Broker, Delivery, KvBucket, KvEntry, KvWatchOptions, PublishOptions, PullOptions } from "../../src/broker/port.js";

/** Per-op counts, e.g. `publish:DAG` → 2000, `kv.update:step` → 4000, `kv.update.conflict:step` → 3. */
export class OpCounter {
  readonly counts = new Map<string, number>();
  /** Watches open right now, and the most ever open at once. */
  watchesOpen = 0;
  watchesPeak = 0;
  constructor(readonly where = false) {}

  add(op: string, n = 1): void {
    const key = this.where ? `${op} @ ${caller()}` : op;
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  /** Forgets the counts; the peak restarts from the watches open now. */
  reset(): void {
    this.counts.clear();
    this.watchesPeak = this.watchesOpen;
  }

  snapshot(): Record<string, number> {
    const out: Record<string, number> = Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
    out["kv.watch.peak_open"] = this.watchesPeak;
    return out;
  }
}

/**
 * The first stack frame in `src/` outside the broker layers and the workflow store's typed access,
 * as `file:function` (the store function it went through first, when there is one).
 */
function caller(): string {
  const lines = (new Error("where").stack ?? "").split("\n").slice(1);
  let via = "";
  for (const line of lines) {
    const m = /at (?:async )?(\S+)? ?\(?.*\/src\/((?!nats\/|broker\/|memory\/)[^:)]+):\d+/.exec(line);
    if (!m) continue;
    const frame = `${m[2]}:${m[1] ?? "?"}`;
    if (m[2]!.startsWith("workflow/store/")) {
      via ||= ` via ${m[1] ?? "?"}`;
      continue;
    }
    return frame + via;
  }
  return via ? `?${via}` : "?";
}

/** A KV key or filter of the workflow bucket by kind: `<dag>.step.<id>` → `step`, `*.meta` → `*.meta`, `<dag>.*.<id>` → `<dag>.*.<id>`. */
export function keyKind(key: string): string {
  const t = key.split(".");
  if (t.length === 2 && t[1] === "meta") return t[0] === "*" ? "*.meta" : "meta";
  if (t.length === 3 && !key.includes("*") && !key.includes(">")) return t[1]!;
  return t.map((x, i) => (x === "*" || x === ">" ? x : i === 0 ? "<dag>" : i === 1 && t.length === 3 ? x : "<id>")).join(".");
}

function isConflict(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === "conflict";
}

function countingKv(inner: KvBucket, c: OpCounter): KvBucket {
  const b = inner.name === "ebind-dags" ? "" : `[${inner.name}]`;
  const k = (key: string): string => b + keyKind(key);
  const guarded = async <T>(op: string, key: string, run: () => Promise<T>): Promise<T> => {
    c.add(`${op}:${k(key)}`);
    try {
      return await run();
    } catch (err) {
      if (isConflict(err)) c.add(`${op}.conflict:${k(key)}`);
      throw err;
    }
  };
  return {
    name: inner.name,
    get: (key) => guarded("kv.get", key, () => inner.get(key)),
    create: (key, value) => guarded("kv.create", key, () => inner.create(key, value)),
    update: (key, value, rev) => guarded("kv.update", key, () => inner.update(key, value, rev)),
    put: (key, value) => guarded("kv.put", key, () => inner.put(key, value)),
    delete: (key, options) => guarded("kv.delete", key, () => inner.delete(key, options)),
    keys: (filter) => guarded("kv.keys", filter ?? ">", () => inner.keys(filter)),
    entries: (filter) => guarded("kv.entries", filter ?? ">", () => inner.entries(filter)),
    watch(options?: KvWatchOptions): AsyncIterable<KvEntry> {
      c.add(`kv.watch:${k(options?.key ?? ">")}/${options?.include ?? "last"}`);
      const it = inner.watch(options);
      return {
        async *[Symbol.asyncIterator]() {
          c.watchesOpen++;
          c.watchesPeak = Math.max(c.watchesPeak, c.watchesOpen);
          try {
            for await (const e of it) {
              c.add("kv.watch.entry");
              yield e;
            }
          } finally {
            c.watchesOpen--;
          }
        },
      };
    },
  };
}

/** The stream a subject is published to, as far as the bench needs: its first token. */
function streamOf(subject: string): string {
  return subject.split(".", 1)[0]!;
}

/** `inner` with every port call counted into `c`. */
export function countingBroker(inner: Broker, c: OpCounter): Broker {
  const wrapped: Broker = {
    kind: inner.kind,
    get maxPayloadBytes() {
      return inner.maxPayloadBytes;
    },
    get lingeringPulls() {
      return inner.lingeringPulls;
    },
    ensureStream: (spec) => (c.add("ensureStream"), inner.ensureStream(spec)),
    streamState: (name) => (c.add("streamState"), inner.streamState(name)),
    ensureConsumer: (stream, spec) => (c.add("ensureConsumer"), inner.ensureConsumer(stream, spec)),
    consumerSpec: (stream, durable) => (c.add("consumerSpec"), inner.consumerSpec(stream, durable)),
    deleteConsumer: (stream, durable) => (c.add("deleteConsumer"), inner.deleteConsumer(stream, durable)),
    publish(subject: string, data: Uint8Array, options?: PublishOptions) {
      c.add(`publish:${streamOf(subject)}`);
      return inner.publish(subject, data, options);
    },
    pull(stream: string, durable: string, options: PullOptions): AsyncIterable<Delivery> {
      c.add(`pull:${stream}`);
      const it = inner.pull(stream, durable, options);
      return {
        async *[Symbol.asyncIterator]() {
          for await (const d of it) {
            c.add(`delivery:${stream}`);
            yield d;
          }
        },
      };
    },
    getMessage: (stream, seq) => (c.add("getMessage"), inner.getMessage(stream, seq)),
    deleteMessage: (stream, seq) => (c.add("deleteMessage"), inner.deleteMessage(stream, seq)),
    purgeStream: (stream, options) => (c.add("purgeStream"), inner.purgeStream(stream, options)),
    async kv(bucket, options) {
      return countingKv(await inner.kv(bucket, options), c);
    },
    close: () => inner.close(),
  };
  if (inner.startHeartbeats) wrapped.startHeartbeats = (o) => inner.startHeartbeats!(o);
  if (inner.onMaxDeliveries) wrapped.onMaxDeliveries = (s, d, g, f) => inner.onMaxDeliveries!(s, d, g, f);
  return wrapped;
}

/** Adds counts (from several processes) together. */
export function sumCounts(...parts: Array<Record<string, number> | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Counts divided by `steps`, rounded to 3 places, zeros left out. */
export function perStep(counts: Record<string, number>, steps: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts)
      .filter(([k, v]) => v !== 0 && !k.endsWith("peak_open"))
      .map(([k, v]) => [k, Number((v / steps).toFixed(3))]),
  );
}
