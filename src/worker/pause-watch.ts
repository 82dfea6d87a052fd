/**
 * A worker's view of the paused task names (`broker/parking.ts`): one KV watch on
 * `ebind-task-pauses`, so a pause written anywhere is seen within the watch's delivery time, and a
 * record of the names whose tasks this worker parked, so that when it sees their resume it moves
 * back what it may have parked after the resumer's own move.
 * @module
 */
import type { Logger } from "../broker/logger.js";
import type { Broker, Delivery, KvBucket } from "../broker/port.js";
import { decodeTaskPauseState, parkDelivery, resumedRevision, TASK_PAUSES_BUCKET, unparkTasks } from "../broker/parking.js";
import { followKv } from "../broker/kv-follow.js";

/** Wait after a resume before moving back what this worker parked (its parks in flight land first). */
const UNPARK_DELAY_MS = 500;

/** The paused task names, as one worker sees them. */
export class PauseWatch {
  /** Paused names → the revision of their pause. */
  readonly #paused = new Map<string, number>();
  /** Names this worker parked a task of since it saw them paused, with the parks still in flight. */
  readonly #parked = new Map<string, Set<Promise<void>>>();
  readonly #stop = new AbortController();
  readonly #timers = new Set<NodeJS.Timeout>();
  #kv: KvBucket | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly logger: Logger,
    /** Replicas of the bucket when this watch creates it (those of the task stream). */
    private readonly replicas = 1,
  ) {}

  /**
   * Opens the bucket and the watch, and reads the names paused now.
   * @throws the backend's error when the bucket cannot be opened or watched.
   */
  async start(): Promise<void> {
    this.#kv = await this.broker.kv(TASK_PAUSES_BUCKET, { history: 1, replicas: this.replicas });
    await this.#watch();
    for (const e of await this.#kv.entries()) this.#apply(e.key, e.value, e.revision);
  }

  /**
   * Whether a delivered task of `name` must be parked: its name is paused, by a pause newer than
   * the resume that moved the task back (if it was moved back): a worker that has not seen a resume
   * yet runs the tasks that resume moved.
   */
  shouldPark(name: string, delivery: Delivery): boolean {
    if (this.#paused.size === 0) return false;
    const pausedAt = this.#paused.get(name);
    return pausedAt !== undefined && resumedRevision(delivery) < pausedAt;
  }

  /**
   * Parks a delivered task of the paused `name` (`broker/parking.ts`). Should the pause be lifted
   * while this is in flight, the task is moved back once it has landed.
   * @throws the backend's error when it could not be parked (the delivery is left unsettled).
   */
  park(delivery: Delivery, name: string): Promise<void> {
    let inFlight = this.#parked.get(name);
    if (!inFlight) this.#parked.set(name, (inFlight = new Set()));
    const job = parkDelivery(this.broker, delivery, this.#paused.get(name) ?? 0);
    const tracked = job.catch(() => undefined);
    inFlight.add(tracked);
    void tracked.finally(() => inFlight.delete(tracked));
    return job;
  }

  /** Ends the watch and pending moves. */
  stop(): void {
    this.#stop.abort();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  /** Starts following the bucket; resolves once the watch is established. */
  #watch(): Promise<void> {
    const kv = this.#kv!;
    return followKv(kv, {
      onEntry: (e) => this.#apply(e.key, e.operation === "PUT" ? e.value : undefined, e.revision),
      // What changed while the watch was down is read again.
      onReopen: async () => {
        for (const e of await kv.entries()) this.#apply(e.key, e.value, e.revision);
      },
      signal: this.#stop.signal,
      logger: this.logger,
      what: "worker: the watch of paused task names",
    });
  }

  #apply(key: string, value: Uint8Array | undefined, revision: number): void {
    let name = Buffer.from(key, "base64url").toString("utf8");
    let paused = false;
    if (value !== undefined) {
      try {
        const record = decodeTaskPauseState(value);
        name = record.name;
        paused = record.state === "paused";
      } catch (err) {
        this.logger.warn({ key, error: (err as Error).message }, "worker: ignoring a malformed task pause record");
        return;
      }
    }
    const known = this.#paused.get(name);
    if (paused) {
      if (known === undefined || known < revision) this.#paused.set(name, revision);
      return;
    }
    if (known === undefined || known > revision) return; // not paused, or a newer pause seen already
    this.#paused.delete(name);
    const inFlight = this.#parked.get(name);
    if (!inFlight) return;
    this.#parked.delete(name);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#stop.signal.aborted || this.#paused.has(name)) return; // paused again: its tasks stay parked
      // The resumer moved what was parked when it looked; move what this worker parked after that.
      Promise.all([...inFlight])
        .then(() => unparkTasks(this.broker, name, revision))
        .then(
          (moved) => moved > 0 && this.logger.info({ task_name: name, moved }, "worker: moved back tasks parked while their name was paused"),
          (err: unknown) => this.logger.warn({ task_name: name, error: (err as Error).message }, "worker: could not move back parked tasks; resume the name again to move them"),
        );
    }, UNPARK_DELAY_MS);
    timer.unref();
    this.#timers.add(timer);
  }
}
