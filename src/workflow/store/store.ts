/**
 * The workflow state on a KV bucket (reference §1.7.2, §2.7, §3.16): every state change is a
 * compare-and-set on the record's revision; a conflict is `WorkflowError` `stale_revision`.
 * Revisions come from writes, never from reading back (replicas may lag).
 * @module
 */
import type { KvBucket, KvEntry } from "../../broker/port.js";
import { EbindError } from "../../task/errors.js";
import {
  decodeDagMeta,
  decodeSignalRecord,
  decodeStepRecord,
  encodeDagMeta,
  encodeSignalRecord,
  encodeStepRecord,
  SIGNAL_MARKER,
} from "../model/codec.js";
import { WorkflowError } from "../model/errors.js";
import { metaKey, resultKey, signalKey, stepKey, validateDagId } from "../model/keys.js";
import type { DagState } from "../plan/index.js";
import { STEP_INDEX_MAX, type DagMeta, type SignalRecord, type StepRecord } from "../model/records.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A record with the revision it was read or written at. */
export interface Versioned<T> {
  readonly value: T;
  readonly revision: number;
}

/** A DAG's state plus the revision of every step record (for CAS without re-reading). */
export interface LoadedDag {
  readonly state: DagState;
  readonly metaRevision: number;
  readonly stepRevisions: ReadonlyMap<string, number>;
}

function conflict(err: unknown, what: string): never {
  if (err instanceof EbindError && err.code === "conflict") throw new WorkflowError("stale_revision", `workflow: ${what}: stale revision`, { cause: err });
  throw err;
}

/** Typed access to bucket `ebind-dags`. */
export class DagStore {
  constructor(readonly kv: KvBucket) {}

  // Meta

  async getMeta(dagId: string): Promise<Versioned<DagMeta> | null> {
    const e = await this.kv.get(metaKey(dagId));
    return e ? { value: decodeDagMeta(e.value), revision: e.revision } : null;
  }

  /** Creates the meta; `stale_revision` when the id is taken. */
  async createMeta(meta: DagMeta): Promise<number> {
    try {
      return await this.kv.create(metaKey(meta.id), utf8.encode(encodeDagMeta(meta)));
    } catch (err) {
      return conflict(err, `DAG ${meta.id} already exists (delete it, or choose another id)`);
    }
  }

  async updateMeta(meta: DagMeta, revision: number): Promise<number> {
    try {
      return await this.kv.update(metaKey(meta.id), utf8.encode(encodeDagMeta(meta)), revision);
    } catch (err) {
      return conflict(err, `meta of ${meta.id}`);
    }
  }

  /**
   * Moves the meta's revision on, by compare-and-set. Schedulers cache a DAG's steps and dependency
   * edges for as long as the meta's revision stays the same, so whoever adds a step to a running DAG
   * touches the meta afterwards, naming the step: it is added to the meta's step index
   * ({@link DagMeta.stepIds}) when the meta keeps one. Without a step (or with one the index already
   * holds) the same bytes are written back, and a conflict — someone else moved the revision
   * meanwhile — serves as well; an index that must grow is retried until it holds the step. An index
   * that would pass {@link STEP_INDEX_MAX} is dropped (the DAG's steps are listed from then on).
   * @returns false when the DAG has no meta (deleted); true once the revision has moved.
   * @throws store errors other than a conflict; `WorkflowError` `stale_revision` when the index
   *   could not be extended in 10 tries.
   */
  async touchMeta(dagId: string, addedStepId?: string): Promise<boolean> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const e = await this.kv.get(metaKey(dagId));
      if (!e) return false;
      let value = e.value;
      if (addedStepId !== undefined) {
        const meta = decodeDagMeta(e.value);
        const ids = meta.stepIds;
        if (ids !== undefined && !ids.includes(addedStepId)) {
          const grown = ids.length < STEP_INDEX_MAX ? [...ids, addedStepId] : undefined;
          value = utf8.encode(encodeDagMeta({ ...meta, stepIds: grown }));
        }
      }
      try {
        await this.kv.update(metaKey(dagId), value, e.revision);
        return true;
      } catch (err) {
        if (!(err instanceof EbindError && err.code === "conflict")) throw err;
        if (value === e.value) return true; // nothing to add: another write moved the revision
      }
    }
    throw new WorkflowError("stale_revision", `workflow: meta of ${dagId}: the step index could not take step "${addedStepId ?? ""}" (stale revision 10 times)`);
  }

  /** All DAG metas (keys `<dag>.meta`; a step named `meta` cannot match: its key has three tokens). */
  async listMetas(): Promise<DagMeta[]> {
    const metas: DagMeta[] = [];
    for (const e of await this.kv.entries("*.meta")) {
      try {
        metas.push(decodeDagMeta(e.value));
      } catch {
        // a record another writer broke must not hide every other DAG
      }
    }
    return metas;
  }

  // Steps

  async getStep(dagId: string, stepId: string): Promise<Versioned<StepRecord> | null> {
    const e = await this.kv.get(stepKey(dagId, stepId));
    return e ? { value: decodeStepRecord(e.value), revision: e.revision } : null;
  }

  /** Creates the step record; `stale_revision` when it exists. */
  async createStep(step: StepRecord): Promise<number> {
    try {
      return await this.kv.create(stepKey(step.dagId, step.stepId), utf8.encode(encodeStepRecord(step)));
    } catch (err) {
      return conflict(err, `step ${step.dagId}/${step.stepId} exists`);
    }
  }

  async updateStep(step: StepRecord, revision: number): Promise<number> {
    try {
      return await this.kv.update(stepKey(step.dagId, step.stepId), utf8.encode(encodeStepRecord(step)), revision);
    } catch (err) {
      return conflict(err, `step ${step.dagId}/${step.stepId}`);
    }
  }

  /** Every step of a DAG with its revision. */
  async listSteps(dagId: string): Promise<Array<Versioned<StepRecord>>> {
    return (await this.kv.entries(`${dagId}.step.*`)).map((e) => ({ value: decodeStepRecord(e.value), revision: e.revision }));
  }

  /**
   * Reads the given steps of one DAG at once (direct reads, no listing).
   * @returns the steps that exist, by id, with their revisions; missing ids are absent.
   */
  async getSteps(dagId: string, stepIds: Iterable<string>): Promise<Map<string, Versioned<StepRecord>>> {
    const ids = [...new Set(stepIds)];
    const read = await Promise.all(ids.map((id) => this.getStep(dagId, id)));
    const out = new Map<string, Versioned<StepRecord>>();
    read.forEach((r, i) => r && out.set(ids[i]!, r));
    return out;
  }

  // Results

  /**
   * Writes a step's result once: the first write wins, so a duplicate execution of the step cannot
   * replace the result its dependents already used. Returns false when a result was there.
   */
  async putResult(dagId: string, stepId: string, raw: string): Promise<boolean> {
    try {
      await this.kv.create(resultKey(dagId, stepId), utf8.encode(raw));
      return true;
    } catch (err) {
      if (err instanceof EbindError && err.code === "conflict") return false;
      throw err;
    }
  }

  /** Deletes a step's result (a canceled step's late value); missing is fine. */
  async deleteResult(dagId: string, stepId: string): Promise<void> {
    await this.kv.delete(resultKey(dagId, stepId));
  }

  /** The raw result; `null` (the JSON text) for an empty value (Go's error-only handlers); undefined when absent. */
  async getResult(dagId: string, stepId: string): Promise<string | undefined> {
    const e = await this.kv.get(resultKey(dagId, stepId));
    return e ? resultText(e) : undefined;
  }

  /** Resolves with the result once it exists (at once if it does); ends when `signal` aborts. */
  async *watchResult(dagId: string, stepId: string, signal: AbortSignal): AsyncGenerator<string> {
    for await (const e of this.kv.watch({ key: resultKey(dagId, stepId), include: "last", signal })) {
      if (e.operation === "PUT") yield resultText(e);
    }
  }

  // Signals

  async listSignals(dagId: string): Promise<SignalRecord[]> {
    return (await this.kv.entries(`${dagId}.signal.*`)).map((e) => decodeSignalRecord(e.value));
  }

  async createSignal(record: SignalRecord): Promise<number> {
    try {
      return await this.kv.create(signalKey(record.dagId, record.name), utf8.encode(encodeSignalRecord(record)));
    } catch (err) {
      return conflict(err, `signal ${record.name} of ${record.dagId} exists`);
    }
  }

  // Whole DAGs

  /**
   * Meta, steps (with revisions) and signals of a DAG, or null when there is no meta. The meta is
   * read before the steps are listed (a scheduler's cache of the steps relies on that order).
   * Signals are listed only when a step waits for one or takes one as an argument: a listing costs
   * the server time in proportion to the whole bucket.
   */
  async load(dagId: string): Promise<LoadedDag | null> {
    const meta = await this.getMeta(dagId);
    return meta && this.loadFrom(meta, "list");
  }

  /**
   * Like {@link load}, but reads the steps by key when the meta keeps a step index
   * ({@link DagMeta.stepIds}), which costs the server a lookup per step instead of a scan of the
   * bucket. `indexed` says which happened: an index may miss a step added by a process that does not
   * keep it (ebind for Go), so a caller about to finalise the DAG lists its steps.
   */
  async loadIndexed(dagId: string): Promise<(LoadedDag & { readonly indexed: boolean }) | null> {
    const meta = await this.getMeta(dagId);
    return meta && this.loadFrom(meta, "index");
  }

  /**
   * The DAG whose meta was just read: its steps, read after the meta (a scheduler's cache of the
   * steps relies on that order) — listed (`"list"`), or by key through the meta's step index when it
   * has one (`"index"`; `indexed` says whether it had) — and its signals, listed only when a step
   * waits for one or takes one as an argument.
   */
  async loadFrom(meta: Versioned<DagMeta>, steps: "list" | "index"): Promise<LoadedDag & { readonly indexed: boolean }> {
    const dagId = meta.value.id;
    const ids = steps === "index" ? meta.value.stepIds : undefined;
    const records = ids === undefined ? await this.listSteps(dagId) : [...(await this.getSteps(dagId, ids)).values()];
    return { ...(await this.#assemble(meta, records)), indexed: ids !== undefined };
  }

  /** The DAG state from its meta and steps; signals are listed only when a step uses one. */
  async #assemble(meta: Versioned<DagMeta>, steps: ReadonlyArray<Versioned<StepRecord>>): Promise<LoadedDag> {
    const dagId = meta.value.id;
    const signals = steps.some((s) => usesSignals(s.value)) ? await this.listSignals(dagId) : [];
    return {
      state: {
        meta: meta.value,
        steps: new Map(steps.map((s) => [s.value.stepId, s.value])),
        signals: new Map(signals.map((s) => [s.name, s])),
      },
      metaRevision: meta.revision,
      stepRevisions: new Map(steps.map((s) => [s.value.stepId, s.revision])),
    };
  }

  /** Deletes every record of a DAG; missing keys are fine (reference §3.25). */
  async deleteDag(dagId: string): Promise<void> {
    validateDagId(dagId); // the key filter below must never hold a wildcard
    const keys = await this.kv.keys(`${dagId}.>`);
    // Results and steps first, the meta last: a half-deleted DAG is still listed and can be deleted again.
    const ordered = [...keys.filter((k) => k !== metaKey(dagId)), ...keys.filter((k) => k === metaKey(dagId))];
    for (const key of ordered) await this.kv.delete(key);
  }
}

/** Whether a step waits for a signal or takes one as an argument (a superset: any marker text counts). */
function usesSignals(step: StepRecord): boolean {
  return step.waitSignals.length > 0 || step.argsJson.includes(SIGNAL_MARKER);
}

function resultText(e: KvEntry): string {
  const raw = text.decode(e.value).trim();
  return raw === "" ? "null" : raw;
}
