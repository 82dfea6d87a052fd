/**
 * One KV watch shared by every waiter of a process (issue 14): awaits register the one key they
 * wait on, and the watch — of a pattern such as `*.step.*`, updates only — hands each change to the
 * waiters of its key. A process with 10,000 outstanding awaits holds one watch (one server-side
 * consumer), not 10,000. The watch opens with the first waiter and closes once no waiter is left for
 * `lingerMs`, so a process awaiting one thing after another does not open and close it each time.
 * A watch that fails is reopened (`followKv`); every waiter is then told to read its records again,
 * since changes made while it was down were not seen.
 * @module
 */
import type { Logger } from "../../broker/logger.js";
import { followKv } from "../../broker/kv-follow.js";
import type { KvBucket, KvEntry } from "../../broker/port.js";
import { EbindError } from "../../task/errors.js";

/** A waiter of one key. Neither method may throw. */
export interface KeyWaiter {
  /** A change of the key (a PUT, or a DEL / PURGE). */
  onEntry(entry: KvEntry): void;
  /** The watch was down for a while and is back: read the key again. */
  onReopen(): void;
}

/** How long the watch stays open after its last waiter left, in ms. */
export const DEFAULT_LINGER_MS = 30_000;

/** One watch of a key pattern, shared by the waiters of keys matching it. */
export class SharedWatch {
  /** Waiters by key: one waiter as itself (the usual case, and the smallest), several as a set. */
  readonly #waiters = new Map<string, KeyWaiter | Set<KeyWaiter>>();
  #count = 0;
  #stop: AbortController | undefined;
  #ready: Promise<void> | undefined;
  #idle: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * @param kv the bucket.
   * @param pattern the keys watched (a wildcard pattern); waiters must wait on keys it matches.
   * @param what what is followed, for the warning when the watch fails.
   */
  constructor(
    private readonly kv: KvBucket,
    private readonly pattern: string,
    private readonly logger: Logger,
    private readonly what: string,
    private readonly lingerMs: number = DEFAULT_LINGER_MS,
  ) {}

  /** Waiters registered now (for tests and benchmarks). */
  get waiters(): number {
    return this.#count;
  }

  /** Whether the watch is open (or opening). */
  get open(): boolean {
    return this.#ready !== undefined;
  }

  /**
   * Registers `waiter` for `key` and returns the watch's establishment (one promise shared by every
   * waiter): every change written after it resolved is handed to the waiter, until {@link remove}.
   * The waiter is registered at once, even when the promise rejects (the backend's error when the
   * watch cannot be opened): remove it then.
   */
  add(key: string, waiter: KeyWaiter): Promise<void> {
    const existing = this.#waiters.get(key);
    if (existing === undefined) this.#waiters.set(key, waiter);
    else if (existing instanceof Set) existing.add(waiter);
    else this.#waiters.set(key, new Set([existing, waiter]));
    this.#count++;
    if (this.#idle !== undefined) {
      clearTimeout(this.#idle);
      this.#idle = undefined;
    }
    return this.#open();
  }

  /** Closes the watch now; later waiters open it again. */
  close(): void {
    this.#closed = true;
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = undefined;
    this.#stop?.abort();
    this.#stop = undefined;
    this.#ready = undefined;
  }

  #open(): Promise<void> {
    this.#closed = false;
    if (this.#ready) return this.#ready;
    const stop = new AbortController();
    this.#stop = stop;
    const opening = followKv(this.kv, {
      key: this.pattern,
      signal: stop.signal,
      logger: this.logger,
      what: this.what,
      onEntry: (entry) => this.#dispatch(entry),
      onReopen: async () => {
        for (const w of this.#all()) w.onReopen();
      },
    });
    // Closed before it was established: followKv then neither resolves nor rejects.
    const closed = new Promise<never>((_, reject) =>
      stop.signal.addEventListener("abort", () => reject(new EbindError("closed", `${this.what} was closed`)), { once: true }),
    );
    closed.catch(() => undefined);
    const ready = Promise.race([opening, closed]).catch((err: unknown) => {
      if (this.#ready === ready) {
        this.#ready = undefined;
        this.#stop = undefined;
      }
      stop.abort();
      throw err;
    });
    this.#ready = ready;
    return ready;
  }

  #dispatch(entry: KvEntry): void {
    const w = this.#waiters.get(entry.key);
    if (w === undefined) return;
    if (w instanceof Set) for (const one of [...w]) one.onEntry(entry);
    else w.onEntry(entry);
  }

  #all(): KeyWaiter[] {
    const out: KeyWaiter[] = [];
    for (const w of this.#waiters.values()) {
      if (w instanceof Set) out.push(...w);
      else out.push(w);
    }
    return out;
  }

  /** Unregisters `waiter` from `key` (nothing if it is not registered there). */
  remove(key: string, waiter: KeyWaiter): void {
    const existing = this.#waiters.get(key);
    if (existing === waiter) this.#waiters.delete(key);
    else if (existing instanceof Set && existing.delete(waiter)) {
      if (existing.size === 1) this.#waiters.set(key, [...existing][0]!);
    } else return;
    this.#count--;
    if (this.#count === 0 && !this.#closed && this.#ready !== undefined) {
      this.#idle = setTimeout(() => {
        this.#idle = undefined;
        if (this.#count === 0) this.close();
      }, this.lingerMs).unref();
    }
  }
}
