/**
 * What the gauges of `ebind/prometheus` read at scrape time: the observed workers (their slots,
 * health and durables; the workflows' DAG counts are in dag-counts.ts). The reads of the server a scrape makes —
 * consumer state, the DAG listing — are bounded by `scrapeTimeoutMs`; one that fails or times out is
 * counted in `scrape_errors_total` and its series left out. A scrape never throws.
 * @module
 */
import type { Counter } from "prom-client";
import type { ConsumerState } from "../../broker/index.js";
import type { Worker } from "../../worker/index.js";
import type { Workflow } from "../../workflow/index.js";
import { EbindError } from "../../task/index.js";
import { HeldSources } from "./held.js";

/** What the metrics read of a worker (a {@link Worker} is one). */
export type ObservableWorker = Pick<Worker, "id" | "active" | "freeSlots" | "health" | "consumers" | "broker">;

/**
 * What the metrics read of a workflow (a {@link Workflow} is one): its DAG listing, and its broker,
 * which names its DAG bucket — workflows on the same broker object are counted once. Without a
 * broker, the workflow object itself is the key.
 */
export type ObservableWorkflow = Pick<Workflow, "listDags"> & Partial<Pick<Workflow, "broker">>;

/** One durable's state as read for a scrape. */
export interface ConsumerReading {
  readonly stream: string;
  readonly durable: string;
  readonly state: ConsumerState;
}

/** Rejects with `timeout` after `ms`; the read goes on and its late failure is swallowed. */
export function withTimeout<T>(read: Promise<T>, ms: number, what: string): Promise<T> {
  read.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EbindError("timeout", `${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([read, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The reads the gauges of a scrape are waiting for, so that `scrape_errors_total`, collected after
 * them, counts the errors of the same scrape.
 */
export class ScrapeReads {
  readonly #pending = new Set<Promise<unknown>>();

  /** Tracks `read` until it settles; returns it. */
  track<T>(read: Promise<T>): Promise<T> {
    const settled = read.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
    return read;
  }

  /** Resolves once every read tracked now has settled. */
  async settled(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}

/** The observed workers and the consumer reads of one scrape. */
export class WorkerSources {
  readonly #held = new HeldSources<ObservableWorker, ObservableWorker, ObservableWorker>((worker) => worker);
  /** The read of the scrape in progress, shared by the four consumer gauges it feeds. */
  #reading: Promise<ConsumerReading[]> | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly errors: Counter<"source">,
  ) {}

  /** The observed workers, each once however often it was observed. */
  get workers(): readonly ObservableWorker[] {
    return this.#held.sources();
  }

  /** Observes `worker` until the returned function is called (idempotent); observing it again holds it once more (a refcount). */
  observe(worker: ObservableWorker): () => void {
    return this.#held.hold(worker, worker);
  }

  /**
   * Every observed worker's durables with their state, each read once (a durable two workers share
   * is read once), all at once, each within the timeout. A read that fails, times out, or finds no
   * durable leaves that durable out. Concurrent calls (the gauges of one scrape) share one read.
   */
  consumers(): Promise<ConsumerReading[]> {
    this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(): Promise<ConsumerReading[]> {
    const wanted = new Map<string, { stream: string; durable: string; worker: ObservableWorker }>();
    for (const worker of this.workers) {
      for (const c of worker.consumers()) {
        const key = `${c.stream}\u0000${c.durable}`;
        if (!wanted.has(key)) wanted.set(key, { ...c, worker });
      }
    }
    const reads = [...wanted.values()].map(async ({ stream, durable, worker }): Promise<ConsumerReading | undefined> => {
      const broker = worker.broker;
      if (broker.consumerState === undefined) return undefined; // a backend without the capability: no series
      try {
        const state = await withTimeout(broker.consumerState(stream, durable), this.timeoutMs, `consumer ${stream}/${durable}`);
        return state === null ? undefined : { stream, durable, state };
      } catch {
        this.errors.inc({ source: "consumer_state" });
        return undefined;
      }
    });
    return (await Promise.all(reads)).filter((r) => r !== undefined);
  }
}
