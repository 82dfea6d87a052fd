/**
 * What one scheduler process remembers about the DAGs it moves forward, so that handling a step's
 * completion need not list and read the whole DAG again (a listing costs the server time in
 * proportion to the whole bucket, and reading every step on every event makes a chain of n steps
 * cost O(n²) reads). No I/O here.
 *
 * What is kept can never be wrong, only incomplete:
 * - the steps of a DAG and their dependency edges. A step record's id, dependencies, arguments,
 *   handler, placement, breakpoint labels and signal names are written once, when it is created,
 *   and no writer changes them (every update copies the record and changes its status, attempt,
 *   worker, times, error, hold or breakpoint state). Steps are never removed from a DAG that still
 *   exists. So the set only grows — by dynamic steps — and a graph is kept together with the
 *   revision of the DAG's meta it was listed under: whoever adds a step touches the meta afterwards
 *   (`DagStore.touchMeta`), and a graph is used only while the meta is still at that revision. A
 *   deleted and re-created DAG has a new meta revision too (revisions are never reused).
 * - records of steps seen terminal: a terminal status is never left (every compare-and-set refuses
 *   to move a terminal step) — except by a DLQ requeue of a failed step, which reopens it and its
 *   skipped dependents and moves the meta afterwards (`ops/requeue.ts`), so a graph listed before
 *   is no longer used — so such a record stays true. Steps with breakpoint labels are not
 *   kept: their breakpoint state may still change.
 * - results of done steps that `completed` events carried (small ones, up to a budget per DAG): a
 *   result is written once, create-only, and a done step is never reopened.
 * Statuses of steps not known terminal are always read afresh. Arguments are not kept (they may
 * be large): records come back with `argsJson` empty, and {@link DagGraph.usesSignals} tells
 * whether they held a signal placeholder.
 * @module
 */
import { SIGNAL_MARKER } from "../model/codec.js";
import { isTerminal, type StepRecord } from "../model/records.js";

/** Characters of results one DAG's graph keeps at most (see {@link DagGraph.noteResult}). */
const RESULT_BUDGET = 256 * 1024;

/** The record without its arguments. */
function lean(record: StepRecord): StepRecord {
  return record.argsJson === "" ? record : { ...record, argsJson: "" };
}

/** The structure of one DAG as listed under one meta revision, plus what is known terminal. */
export class DagGraph {
  /** Revision of the DAG's meta read before its steps were listed. */
  readonly metaRevision: number;
  readonly #shapes: ReadonlyMap<string, StepRecord>;
  readonly #dependents = new Map<string, string[]>();
  readonly #terminal = new Map<string, StepRecord>();
  readonly #signals = new Set<string>();
  /** A step last seen not terminal: the first one to look at when asking whether the DAG is finished. */
  #witness: string | undefined;
  /** Per step: how many of its dependencies (required, then optional, in order) were seen terminal. */
  readonly #dependencyCursors = new Map<string, number>();
  /** Results of done steps carried by their events, within {@link RESULT_BUDGET} characters. */
  readonly #results = new Map<string, string>();
  #resultChars = 0;

  /** @param records the DAG's step records as listed (any status). */
  constructor(metaRevision: number, records: Iterable<StepRecord>) {
    this.metaRevision = metaRevision;
    const shapes = new Map<string, StepRecord>();
    for (const record of records) {
      shapes.set(record.stepId, lean(record));
      if (record.waitSignals.length > 0 || record.argsJson.includes(SIGNAL_MARKER)) this.#signals.add(record.stepId);
    }
    this.#shapes = shapes;
    for (const record of shapes.values()) {
      for (const dep of new Set([...record.deps, ...record.optionalDeps])) {
        const list = this.#dependents.get(dep);
        if (list === undefined) this.#dependents.set(dep, [record.stepId]);
        else list.push(record.stepId);
      }
      this.note(record);
    }
  }

  /** How many steps the DAG had when listed. */
  get size(): number {
    return this.#shapes.size;
  }

  /** Whether the step was there when the DAG was listed. */
  has(stepId: string): boolean {
    return this.#shapes.has(stepId);
  }

  /**
   * The step's record as first seen, without its arguments: only its fixed parts (id, deps,
   * optional deps, handler, placement, optional flag, breakpoint labels, signal names) may be
   * relied on.
   */
  shape(stepId: string): StepRecord | undefined {
    return this.#shapes.get(stepId);
  }

  /** Whether the step waits for a signal or takes one as an argument. */
  usesSignals(stepId: string): boolean {
    return this.#signals.has(stepId);
  }

  /** Ids of the steps listing `stepId` as a required or optional dependency. */
  dependentsOf(stepId: string): readonly string[] {
    return this.#dependents.get(stepId) ?? [];
  }

  /** The record (without arguments) of a step known terminal and without breakpoint labels, else undefined. */
  knownTerminal(stepId: string): StepRecord | undefined {
    return this.#terminal.get(stepId);
  }

  /** Remembers a freshly read (or durably written) record if it is terminal and has no breakpoint labels. */
  note(record: StepRecord): void {
    if (!isTerminal(record.status) || record.breakBefore.length > 0 || record.breakAfter.length > 0) return;
    if (this.#shapes.has(record.stepId)) this.#terminal.set(record.stepId, lean(record));
  }

  /** Ids of the listed steps not known terminal, the last witness (if any) first. */
  unsettled(): string[] {
    const out: string[] = [];
    const witness = this.#witness;
    if (witness !== undefined && !this.#terminal.has(witness)) out.push(witness);
    for (const id of this.#shapes.keys()) if (id !== witness && !this.#terminal.has(id)) out.push(id);
    return out;
  }

  /**
   * How many of the step's dependencies — required then optional, in record order — from the
   * first on were seen terminal (by a read, or by a done event); 0 when not known.
   */
  dependencyCursor(stepId: string): number {
    return this.#dependencyCursors.get(stepId) ?? 0;
  }

  /** Records that the step's first `count` dependencies were seen terminal (see {@link dependencyCursor}). */
  setDependencyCursor(stepId: string, count: number): void {
    if (count > this.dependencyCursor(stepId)) this.#dependencyCursors.set(stepId, count);
  }

  /**
   * Keeps a done step's result as its `completed` event carried it (the stored value), while the
   * DAG's budget of {@link RESULT_BUDGET} characters lasts.
   */
  noteResult(stepId: string, raw: string): void {
    if (this.#results.has(stepId) || !this.#shapes.has(stepId) || this.#resultChars + raw.length > RESULT_BUDGET) return;
    this.#results.set(stepId, raw);
    this.#resultChars += raw.length;
  }

  /** A done step's result from its event, if kept (see {@link noteResult}). */
  result(stepId: string): string | undefined {
    return this.#results.get(stepId);
  }

  /** Records a step just seen not terminal: {@link unsettled} lists it first next time. */
  noteUnsettled(stepId: string): void {
    this.#witness = stepId;
  }
}

/** Bounds of a {@link GraphCache}. */
export interface GraphCacheLimits {
  /** DAGs kept at most. @default 1024 */
  readonly maxDags?: number | undefined;
  /** Steps kept at most over all DAGs; the DAG used last is kept even when it alone is larger. @default 100000 */
  readonly maxSteps?: number | undefined;
}

/** Graphs of DAGs by id, least recently used evicted first. */
export class GraphCache {
  readonly #graphs = new Map<string, DagGraph>();
  readonly #maxDags: number;
  readonly #maxSteps: number;
  #steps = 0;

  constructor(limits: GraphCacheLimits = {}) {
    this.#maxDags = limits.maxDags ?? 1024;
    this.#maxSteps = limits.maxSteps ?? 100_000;
  }

  /** How many DAGs are kept. */
  get size(): number {
    return this.#graphs.size;
  }

  /**
   * The DAG's graph if it was listed under exactly this meta revision; a graph of another revision
   * is dropped.
   */
  get(dagId: string, metaRevision: number): DagGraph | undefined {
    const graph = this.#graphs.get(dagId);
    if (graph === undefined) return undefined;
    this.#graphs.delete(dagId);
    if (graph.metaRevision !== metaRevision) {
      this.#steps -= graph.size;
      return undefined;
    }
    this.#graphs.set(dagId, graph); // most recently used last
    return graph;
  }

  /**
   * Keeps the graph of a DAG listed under `metaRevision`; the meta must have been read before the
   * steps were listed, so that a step added later moves the meta past that revision.
   */
  set(dagId: string, metaRevision: number, records: Iterable<StepRecord>): DagGraph {
    this.drop(dagId);
    const graph = new DagGraph(metaRevision, records);
    this.#graphs.set(dagId, graph);
    this.#steps += graph.size;
    for (const [id, old] of this.#graphs) {
      if (this.#graphs.size <= 1 || (this.#graphs.size <= this.#maxDags && this.#steps <= this.#maxSteps)) break;
      this.#graphs.delete(id);
      this.#steps -= old.size;
    }
    return graph;
  }

  /** Whether a graph of the DAG is kept (of whatever meta revision). */
  has(dagId: string): boolean {
    return this.#graphs.has(dagId);
  }

  /** Forgets a DAG (finished, deleted). */
  drop(dagId: string): void {
    const graph = this.#graphs.get(dagId);
    if (graph === undefined) return;
    this.#graphs.delete(dagId);
    this.#steps -= graph.size;
  }
}
