/**
 * Step records this process has just moved to `running`, kept for the worker middleware of the
 * same process: it records the attempt on the record with a compare-and-set, and can start from
 * the record and revision it was written at instead of reading it first. What is kept may be stale
 * (another process may have written the record since): a stale revision makes the compare-and-set
 * fail, and it re-reads (`cas.ts`). No I/O here.
 * @module
 */
import type { StepRecord } from "../model/records.js";
import type { Versioned } from "./store.js";

/** Running step records by DAG and step, oldest dropped first beyond a bound. */
export class RecentStarts {
  readonly #records = new Map<string, Versioned<StepRecord>>();
  readonly #max: number;

  /** @param max records kept at most. @default 8192 */
  constructor(max = 8192) {
    this.#max = max;
  }

  /** How many records are kept. */
  get size(): number {
    return this.#records.size;
  }

  /** Keeps the record as just written at `revision`. */
  remember(written: Versioned<StepRecord>): void {
    const key = keyOf(written.value.dagId, written.value.stepId);
    this.#records.delete(key);
    this.#records.set(key, written);
    for (const oldest of this.#records.keys()) {
      if (this.#records.size <= this.#max) break;
      this.#records.delete(oldest);
    }
  }

  /** The record kept for the step, forgetting it; undefined when none is kept. */
  take(dagId: string, stepId: string): Versioned<StepRecord> | undefined {
    const key = keyOf(dagId, stepId);
    const found = this.#records.get(key);
    this.#records.delete(key);
    return found;
  }
}

/** Ids are KV key tokens (no dots), so a dot cannot make two pairs collide. */
function keyOf(dagId: string, stepId: string): string {
  return `${dagId}.${stepId}`;
}
