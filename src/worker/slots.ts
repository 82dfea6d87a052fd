/**
 * A counting semaphore for handler concurrency: one instance is shared by the general consumer and
 * every claim consumer of a worker (reference §3.2 step 0).
 * @module
 */
export class Slots {
  #free: number;
  readonly #waiters: Array<() => void> = [];
  /** Made only when somebody waits for a change. */
  #changed: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(readonly size: number) {
    this.#free = size;
  }

  /** Slots not held. */
  get free(): number {
    return this.#free - this.#waiters.length;
  }

  /** Slots held. */
  get held(): number {
    return this.size - this.#free;
  }

  /** Takes a slot, waiting for one if none is free. */
  acquire(): Promise<void> {
    if (this.#free > 0 && this.#waiters.length === 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Returns a slot, handing it straight to the longest waiter if there is one. */
  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
    const changed = this.#changed;
    this.#changed = undefined;
    changed?.resolve();
  }

  /** Resolves at the next {@link release}. */
  changed(): Promise<void> {
    this.#changed ??= deferred();
    return this.#changed.promise;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
