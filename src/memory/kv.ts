/**
 * A KV bucket in process with NATS KV's semantics (nats-2.9-notes.md §4 and item 9): revisions are
 * one sequence per bucket, increasing across keys; a delete writes a `DEL` entry (a tombstone) that
 * `get` and `keys` treat as absent and watches deliver; `create` fails on a live key and succeeds
 * over a tombstone; compare-and-set failures are `EbindError` code `conflict` (NATS API code 10071).
 * Each key keeps its last `history` entries, tombstones included.
 * @module
 */
import type { Clock } from "../broker/clock.js";
import type { KvBucket, KvEntry, KvWatchOptions } from "../broker/port.js";
import { EbindError } from "../task/errors.js";
import { checkSubject, subjectMatches } from "./subjects.js";

/** Revisions kept per key when the bucket names none (as NATS KV). */
export const DEFAULT_MEMORY_KV_HISTORY = 1;
/** The most revisions per key NATS KV allows. */
export const MAX_MEMORY_KV_HISTORY = 64;

const KEY = /^[-/=.\w]+$/;

interface Watcher {
  readonly filter: string;
  readonly push: (entry: KvEntry) => void;
  readonly end: () => void;
}

/** A {@link KvBucket} held in memory. Created by `MemoryBroker.kv`. */
export class MemoryKvBucket implements KvBucket {
  #revision = 0;
  #history: number;
  /** Per key, its kept entries, oldest first. */
  readonly #entries = new Map<string, KvEntry[]>();
  readonly #watchers = new Set<Watcher>();

  constructor(
    readonly name: string,
    history: number,
    private readonly clock: Clock,
    private readonly checkOpen: () => void,
    /** The largest value accepted, in bytes (the broker's max payload, as on NATS). */
    private readonly maxValueBytes: number = Number.POSITIVE_INFINITY,
  ) {
    this.#history = history;
  }

  /** Changes how many revisions per key are kept (from now on). */
  setHistory(history: number): void {
    this.#history = history;
  }

  /** Entries held, all keys and revisions (memory-bound evidence). */
  get entryCount(): number {
    let n = 0;
    for (const list of this.#entries.values()) n += list.length;
    return n;
  }

  /** Open watches. */
  get watcherCount(): number {
    return this.#watchers.size;
  }

  async get(key: string): Promise<KvEntry | null> {
    this.#check(key);
    const last = this.#last(key);
    return last !== undefined && last.operation === "PUT" ? copy(last) : null;
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    this.#check(key);
    const last = this.#last(key);
    if (last !== undefined && last.operation === "PUT") {
      throw new EbindError("conflict", `kv ${this.name} create ${key}: wrong last sequence: ${last.revision}`);
    }
    return this.#write(key, value, "PUT");
  }

  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    this.#check(key);
    if (!Number.isInteger(expectedRevision) || expectedRevision <= 0) {
      // The NATS client refuses revision 0 before sending anything ("version must be greater than 0").
      throw new EbindError("invalid_argument", `kv ${this.name} update ${key}: expectedRevision must be an integer > 0, got ${expectedRevision}`);
    }
    this.#expect(key, expectedRevision, "update");
    return this.#write(key, value, "PUT");
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    this.#check(key);
    return this.#write(key, value, "PUT");
  }

  async delete(key: string, options: { expectedRevision?: number } = {}): Promise<void> {
    this.#check(key);
    if (options.expectedRevision !== undefined) this.#expect(key, options.expectedRevision, "delete");
    this.#write(key, new Uint8Array(0), "DEL");
  }

  async keys(filter?: string): Promise<string[]> {
    return (await this.entries(filter)).map((e) => e.key);
  }

  async entries(filter?: string): Promise<KvEntry[]> {
    this.checkOpen();
    if (filter !== undefined) checkSubject(filter, `kv ${this.name} entries`, true);
    return [...this.#entries]
      .map(([, list]) => list[list.length - 1])
      .filter((e): e is KvEntry => e !== undefined && e.operation === "PUT" && (filter === undefined || subjectMatches(filter, e.key)))
      .sort((a, b) => a.revision - b.revision);
  }

  /**
   * Entries as they change. The initial part (`last`: each key's latest entry, tombstones included;
   * `all`: every kept revision; `updates`: nothing) is in revision order, as NATS delivers it. Ends
   * when `signal` aborts or the broker closes.
   */
  async *watch(options: KvWatchOptions = {}): AsyncGenerator<KvEntry> {
    this.checkOpen();
    const filter = options.key ?? ">";
    checkSubject(filter, `kv ${this.name} watch`, true);
    if (options.signal?.aborted) return;
    const include = options.include ?? "last";
    const queue: KvEntry[] = [];
    if (include !== "updates") {
      for (const [key, list] of this.#entries) {
        if (!subjectMatches(filter, key)) continue;
        const kept = include === "all" ? list : list.slice(-1);
        queue.push(...kept);
      }
      queue.sort((a, b) => a.revision - b.revision);
    }
    let ended = false;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const watcher: Watcher = {
      filter,
      push: (entry) => {
        queue.push(entry);
        notify();
      },
      end: () => {
        ended = true;
        notify();
      },
    };
    this.#watchers.add(watcher);
    options.signal?.addEventListener("abort", watcher.end, { once: true });
    options.onReady?.();
    let initial = queue.length;
    if (initial === 0) options.onCaughtUp?.();
    try {
      for (;;) {
        if (ended) return;
        const next = queue.shift();
        if (next !== undefined) {
          yield copy(next);
          if (initial > 0 && --initial === 0) options.onCaughtUp?.();
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      this.#watchers.delete(watcher);
      options.signal?.removeEventListener("abort", watcher.end);
    }
  }

  /** Ends every watch (the broker closed). */
  close(): void {
    for (const w of [...this.#watchers]) w.end();
  }

  #check(key: string): void {
    this.checkOpen();
    if (!KEY.test(key) || key.startsWith(".") || key.endsWith(".")) {
      throw new EbindError("invalid_argument", `kv ${this.name}: invalid key ${JSON.stringify(key)}`);
    }
  }

  #last(key: string): KvEntry | undefined {
    const list = this.#entries.get(key);
    return list?.[list.length - 1];
  }

  /** The compare-and-set check: the key's last revision (0 when it never existed) must be `expected`. */
  #expect(key: string, expected: number, op: string): void {
    const current = this.#last(key)?.revision ?? 0;
    if (current !== expected) {
      throw new EbindError("conflict", `kv ${this.name} ${op} ${key}: wrong last sequence: ${current}`);
    }
  }

  #write(key: string, value: Uint8Array, operation: KvEntry["operation"]): number {
    if (value.length > this.maxValueBytes) {
      throw new EbindError("payload_too_large", `kv ${this.name} put ${key}: value of ${value.length} bytes exceeds the server's max payload of ${this.maxValueBytes} bytes`);
    }
    const entry: KvEntry = { key, value: value.slice(), revision: ++this.#revision, operation, createdAt: new Date(this.clock.now()) };
    let list = this.#entries.get(key);
    if (list === undefined) this.#entries.set(key, (list = []));
    list.push(entry);
    if (list.length > this.#history) list.splice(0, list.length - this.#history);
    for (const w of this.#watchers) if (subjectMatches(w.filter, key)) w.push(entry);
    return entry.revision;
  }
}

function copy(e: KvEntry): KvEntry {
  return { ...e, value: e.value.slice(), createdAt: new Date(e.createdAt.getTime()) };
}
