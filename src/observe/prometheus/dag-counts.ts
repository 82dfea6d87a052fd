/**
 * `<prefix>dags{status}`'s readings: DAG counts by status per DAG bucket, read at most every
 * `dagStatusRefreshMs` and served only while younger than that. A refresh that fails or takes
 * longer than `scrapeTimeoutMs` leaves the counts out (stale numbers shown as current would mislead
 * an operator during an outage) and is counted once in `scrape_errors_total{source="dag_status"}`.
 * @module
 */
import type { Counter } from "prom-client";
import type { DagSummary } from "../../workflow/index.js";
import { EbindError } from "../../task/index.js";
import { HeldSources } from "./held.js";
import { withTimeout, type ObservableWorkflow } from "./sources.js";

/** One reading of a bucket's DAG metas; `done` resolves true when it succeeded (never rejects). */
interface Reading {
  done: Promise<boolean>;
  /** Set once its failure (a timeout or an error, whichever came first) was counted. */
  counted: boolean;
}

/**
 * DAG counts by status of one DAG bucket, read through `list` (the listing of a workflow over it).
 * A scrape serves the last counts while younger than `refreshMs` (their age runs from the start of
 * their reading); otherwise it starts a reading — or joins the one under way — and waits for it up
 * to `timeoutMs`: the new counts when it succeeds in time, none when it fails or times out. A
 * reading that outlives a scrape goes on, and its counts serve later scrapes while young. Each
 * failed reading is counted once, however many scrapes waited on it.
 */
export class DagStatusCounts {
  #counts: ReadonlyMap<string, number> | undefined;
  #readAt = -Infinity;
  #reading: Reading | undefined;

  constructor(
    private readonly list: () => Promise<readonly DagSummary[]>,
    private readonly refreshMs: number,
    private readonly timeoutMs: number,
    private readonly errors: Counter<"source">,
  ) {}

  /** The counts to serve now: undefined when none are younger than `refreshMs` and no reading succeeded within the timeout. */
  async current(): Promise<ReadonlyMap<string, number> | undefined> {
    if (this.#counts !== undefined && performance.now() - this.#readAt < this.refreshMs) return this.#counts;
    const reading = this.#reading ?? this.#start();
    const ok = await withTimeout(reading.done, this.timeoutMs, "dag status").catch(() => {
      this.#countFailure(reading);
      return false;
    });
    return ok ? this.#counts : undefined;
  }

  /** Starts a reading, the one under way until it settles (set before `list` is called, which may fail at once). */
  #start(): Reading {
    const reading: Reading = { done: Promise.resolve(false), counted: false };
    this.#reading = reading;
    reading.done = this.#read(reading);
    return reading;
  }

  async #read(reading: Reading): Promise<boolean> {
    const started = performance.now();
    try {
      const counts = new Map<string, number>();
      for (const { meta } of await this.list()) counts.set(meta.status, (counts.get(meta.status) ?? 0) + 1);
      this.#counts = counts;
      this.#readAt = started;
      return true;
    } catch {
      this.#counts = undefined;
      this.#countFailure(reading);
      return false;
    } finally {
      if (this.#reading === reading) this.#reading = undefined;
    }
  }

  #countFailure(reading: Reading): void {
    if (reading.counted) return;
    reading.counted = true;
    this.errors.inc({ source: "dag_status" });
  }
}

/**
 * The observed DAG buckets: one {@link DagStatusCounts} per workflow broker (a broker has one DAG
 * bucket, `ebind-dags`), read through the workflow observed over it most recently and still
 * observed. Observing the same workflow twice, or two workflows on one broker, counts the bucket
 * once; it leaves when every observe of it was undone.
 */
export class DagSources {
  readonly #held: HeldSources<object, DagStatusCounts, ObservableWorkflow>;

  constructor(refreshMs: number, timeoutMs: number, errors: Counter<"source">) {
    this.#held = new HeldSources(
      (_broker, holders) =>
        new DagStatusCounts(
          () => {
            const workflow = holders().at(-1);
            return workflow === undefined ? Promise.reject(new EbindError("closed", "no workflow observed over this DAG bucket")) : workflow.listDags();
          },
          refreshMs,
          timeoutMs,
          errors,
        ),
    );
  }

  /** Observes `workflow`'s DAG bucket until the returned function is called (idempotent; a refcount per bucket). */
  observe(workflow: ObservableWorkflow): () => void {
    return this.#held.hold(workflow.broker ?? workflow, workflow);
  }

  /** One counts source per observed bucket. */
  buckets(): DagStatusCounts[] {
    return this.#held.sources();
  }
}
