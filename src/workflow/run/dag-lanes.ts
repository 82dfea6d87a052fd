/**
 * One lane of work per DAG in a scheduler process: work on one DAG runs one piece at a time, in
 * the order it was given, while different DAGs proceed side by side. Items (events) that arrive
 * while their DAG is busy wait in its queue and are handed over together when it is free, so the
 * handler can treat them as one batch. No I/O here.
 * @module
 */

/** Per-DAG serialised work with batching of queued items. */
export class DagLanes<T> {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #queues = new Map<string, T[]>();

  /**
   * @param handle handles a batch of one DAG's items, oldest first; must not throw (a rejection is
   *   passed to `onError` and the lane goes on).
   * @param settled called after each batch with its size.
   * @param onError called with what `handle` or a `run` job threw.
   */
  constructor(
    private readonly handle: (dagId: string, batch: T[]) => Promise<void>,
    private readonly settled: (count: number) => void,
    private readonly onError: (dagId: string, err: unknown) => void,
  ) {}

  /** Queues an item; it is handled after everything given for its DAG before it. */
  push(dagId: string, item: T): void {
    const queued = this.#queues.get(dagId);
    if (queued) {
      queued.push(item);
      return;
    }
    const queue = [item];
    this.#queues.set(dagId, queue);
    void this.run(dagId, () => this.#drain(dagId, queue));
  }

  /** Runs `job` on the DAG's lane, after what it was given before; resolves when it has run. */
  run(dagId: string, job: () => Promise<void>): Promise<void> {
    const previous = this.#tails.get(dagId) ?? Promise.resolve();
    const next = previous.then(job).catch((err: unknown) => this.onError(dagId, err));
    this.#tails.set(dagId, next);
    void next.finally(() => {
      if (this.#tails.get(dagId) === next) this.#tails.delete(dagId);
    });
    return next;
  }

  /** Resolves when every lane is idle as of now. */
  async idle(): Promise<void> {
    await Promise.all([...this.#tails.values()]);
  }

  async #drain(dagId: string, queue: T[]): Promise<void> {
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0);
        try {
          await this.handle(dagId, batch);
        } catch (err) {
          this.onError(dagId, err);
        }
        this.settled(batch.length);
      }
    } finally {
      // No await between the last emptiness check and this: an item pushed from now on starts a new drain.
      if (this.#queues.get(dagId) === queue) this.#queues.delete(dagId);
    }
  }
}
