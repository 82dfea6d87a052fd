/**
 * The sources the gauges read, each observed once however often it is named: observing the same
 * worker twice, or two workflows over one DAG bucket, holds one source; every observe call gets its
 * own release, and the source leaves once all of them are released (a refcount).
 * @module
 */

interface Entry<S, H> {
  readonly source: S;
  readonly holds: Set<{ readonly holder: H }>;
}

/**
 * Sources by key (a worker, a workflow's broker), each held by the observe calls that named it.
 * `create` makes a key's source when first held, given the key and a function returning the holders
 * at the time it is called (most recent last; empty once every hold is released).
 */
export class HeldSources<K, S, H> {
  readonly #entries = new Map<K, Entry<S, H>>();

  constructor(private readonly create: (key: K, holders: () => readonly H[]) => S) {}

  /** Holds `key`'s source (made now if not held yet) for `holder`. @returns its release; idempotent. */
  hold(key: K, holder: H): () => void {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const holds = new Set<{ readonly holder: H }>();
      entry = { source: this.create(key, () => [...holds].map((h) => h.holder)), holds };
      this.#entries.set(key, entry);
    }
    const held = entry;
    const token = { holder };
    held.holds.add(token);
    return () => {
      if (!held.holds.delete(token) || held.holds.size > 0) return;
      if (this.#entries.get(key) === held) this.#entries.delete(key);
    };
  }

  /** The sources held now, one per key. */
  sources(): S[] {
    return [...this.#entries.values()].map((e) => e.source);
  }
}
