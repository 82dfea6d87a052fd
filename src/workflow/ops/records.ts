/**
 * Workflow records as they change: every write to bucket `ebind-dags` (reference §2.7) decoded into
 * a {@link DagChange}, from one KV watch. Tools (ebctl, the dashboard) read the engine's state through
 * this instead of the bucket's keys: one pass over the bucket lists every DAG, and the same watch
 * then follows it live.
 * @module
 */
import type { KvEntry } from "../../broker/port.js";
import { resultKey, validateDagId, validateStepId } from "../model/keys.js";
import { decodeDagMeta, decodeSignalRecord, decodeStepRecord } from "../model/codec.js";
import type { DagMeta, SignalRecord, StepRecord } from "../model/records.js";
import type { WorkflowCore } from "../store/core.js";

/**
 * One change to a DAG's records. A `null` record means the key was deleted (`rm`, or a DAG being
 * deleted record by record); `revision` is the bucket's sequence number of the write.
 * `invalid` is a record that exists but does not decode (written by something else, or broken): it
 * is reported, never thrown, so one bad record cannot stop a watch.
 */
export type DagChange =
  | { readonly type: "meta"; readonly dagId: string; readonly revision: number; readonly meta: DagMeta | null }
  | { readonly type: "step"; readonly dagId: string; readonly stepId: string; readonly revision: number; readonly step: StepRecord | null }
  | { readonly type: "result"; readonly dagId: string; readonly stepId: string; readonly revision: number; readonly deleted: boolean }
  | { readonly type: "signal"; readonly dagId: string; readonly revision: number; readonly signal: SignalRecord | null }
  | { readonly type: "invalid"; readonly key: string; readonly revision: number; readonly error: string };

/** Options of {@link watchDagChanges}. */
export interface WatchDagsOptions {
  /** Only this DAG's records. Default: every DAG. @throws EbindError `invalid_argument` for a malformed id. */
  readonly dagId?: string | undefined;
  /**
   * `last` (default): each record's current state first, then changes; `updates`: changes made
   * after the watch started only.
   */
  readonly include?: "last" | "updates" | undefined;
  /** Ends the watch. */
  readonly signal?: AbortSignal | undefined;
  /** Called once the current state (with `last`) has been yielded; see `KvWatchOptions.onCaughtUp`. */
  readonly onCaughtUp?: (() => void) | undefined;
  /** Called once the watch is established: a change written after this is delivered. */
  readonly onReady?: (() => void) | undefined;
}

/** Decodes one bucket entry; a key outside the schema is `invalid`. */
export function decodeDagChange(e: KvEntry): DagChange {
  const deleted = e.operation !== "PUT";
  const parts = e.key.split(".");
  const [dagId, kind, id] = parts;
  try {
    if (parts.length === 2 && kind === "meta") {
      return { type: "meta", dagId: dagId!, revision: e.revision, meta: deleted ? null : decodeDagMeta(e.value) };
    }
    if (parts.length === 3 && kind === "step") {
      return { type: "step", dagId: dagId!, stepId: id!, revision: e.revision, step: deleted ? null : decodeStepRecord(e.value) };
    }
    if (parts.length === 3 && kind === "result") {
      return { type: "result", dagId: dagId!, stepId: id!, revision: e.revision, deleted };
    }
    if (parts.length === 3 && kind === "signal") {
      return { type: "signal", dagId: dagId!, revision: e.revision, signal: deleted ? null : decodeSignalRecord(e.value) };
    }
  } catch (err) {
    return { type: "invalid", key: e.key, revision: e.revision, error: (err as Error).message };
  }
  return { type: "invalid", key: e.key, revision: e.revision, error: "key outside the ebind-dags schema" };
}

/**
 * Every change to the workflow records, decoded, in revision order (reference §2.7 key schema).
 * Ends when `signal` aborts.
 */
export async function* watchDagChanges(core: WorkflowCore, options: WatchDagsOptions = {}): AsyncGenerator<DagChange> {
  if (options.dagId !== undefined) validateDagId(options.dagId);
  const key = options.dagId === undefined ? ">" : `${options.dagId}.>`;
  for await (const e of core.store.kv.watch({
    key,
    include: options.include ?? "last",
    signal: options.signal,
    onCaughtUp: options.onCaughtUp,
    onReady: options.onReady,
  })) {
    yield decodeDagChange(e);
  }
}

/**
 * The current records matching a key filter, read in one pass (a watch aborted once caught up):
 * far cheaper than a direct get per key when the bucket holds thousands of DAGs. `onEntry` gets the
 * raw entries that exist (deleted keys are skipped), each key once, so a caller can pick by key
 * before decoding.
 */
export async function scanEntries(core: WorkflowCore, key: string, onEntry: (entry: KvEntry) => void): Promise<void> {
  const ac = new AbortController();
  // A key written while the watch delivers its first values arrives again before it catches up:
  // each key is given once, with the first value seen (the listing is as of the scan's start).
  const seen = new Set<string>();
  for await (const e of core.store.kv.watch({ key, include: "last", signal: ac.signal, onCaughtUp: () => ac.abort() })) {
    if (e.operation !== "PUT" || seen.has(e.key)) continue;
    seen.add(e.key);
    onEntry(e);
  }
}

/** {@link scanEntries}, decoded. */
export async function scanDagRecords(core: WorkflowCore, key: string, onEntry: (change: DagChange) => void): Promise<void> {
  await scanEntries(core, key, (e) => onEntry(decodeDagChange(e)));
}

/** A step record with its KV revision (reference §4.2 `dag step get`). */
export type StepRecordAt = StepRecord & { readonly revision: number };

/**
 * One step's record, or null when the DAG has no such step.
 * @throws EbindError `invalid_argument` for a malformed DAG or step id.
 */
export async function stepRecord(core: WorkflowCore, dagId: string, stepId: string): Promise<StepRecordAt | null> {
  validateDagId(dagId);
  validateStepId(stepId);
  const got = await core.store.getStep(dagId, stepId);
  return got ? { ...got.value, revision: got.revision } : null;
}

/**
 * A step's stored result exactly as written (reference §2.6.11: the handler's JSON; empty for Go's
 * error-only handlers), or undefined when there is none.
 * @throws EbindError `invalid_argument` for a malformed DAG or step id.
 */
export async function storedResult(core: WorkflowCore, dagId: string, stepId: string): Promise<Uint8Array | undefined> {
  validateDagId(dagId);
  validateStepId(stepId);
  const e = await core.store.kv.get(resultKey(dagId, stepId));
  return e ? e.value : undefined;
}
