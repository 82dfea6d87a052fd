/**
 * How a worker process learns that a DAG whose steps it runs was canceled (or deleted), to abort
 * those handlers' signals (issue 11: cancel reaches running handlers). One KV watch per process on
 * the metas of bucket `ebind-dags` (`*.meta`, updates only), opened when the first step starts.
 *
 * A change the watch reports is confirmed against the DAG's meta as it is now before anything is
 * aborted: a DAG deleted and re-created under its id must not lose its handlers to its
 * predecessor's cancel or delete, however late the watch reports them. DAGs seen ended are
 * remembered for a while, and the start gate asks about them ({@link CancelWatch.suspect}), so a
 * cancel is never missed whichever of the gate, the registration and the watch comes first.
 * Correctness does not rest on the watch: the step record is canceled by compare-and-set and the
 * outcome of a canceled step is dropped; the watch only stops the work early.
 * @module
 */
import type { Logger } from "../../broker/logger.js";
import { followKv } from "../../broker/kv-follow.js";
import { ErrKind, TaskError } from "../../task/errors.js";
import { decodeDagMeta } from "../model/codec.js";
import type { DagStore } from "../store/store.js";

/** DAG ids remembered as ended, at most. */
const REMEMBERED = 4096;

const CANCELED_STATUS = new TextEncoder().encode('"status":"canceled"');

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The abort reason a handler of a canceled (or deleted) DAG sees. */
export function canceledReason(dagId: string, how: "canceled" | "deleted" = "canceled"): TaskError {
  return new TaskError(ErrKind.Canceled, `DAG ${dagId} was ${how}`, { retryable: false });
}

/** Aborts running step handlers of canceled DAGs, in one process. */
export class CancelWatch {
  readonly #running = new Map<string, Set<(reason: TaskError) => void>>();
  readonly #ended = new Set<string>();
  readonly #stop = new AbortController();
  #ready: Promise<void> | undefined;

  constructor(
    private readonly store: DagStore,
    private readonly logger: Logger,
  ) {}

  /**
   * Opens the watch once; resolves when it is established (changes from then on are seen).
   * @throws the backend's error when the first opening fails (the caller retries later).
   */
  ready(): Promise<void> {
    this.#ready ??= this.#open().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  /**
   * Registers a running handler of `dagId`; `abort` is called when the watch reports the DAG
   * canceled or deleted (and its meta confirms it). Call before the start gate.
   * @returns the function that unregisters it.
   */
  register(dagId: string, abort: (reason: TaskError) => void): () => void {
    let set = this.#running.get(dagId);
    if (!set) this.#running.set(dagId, (set = new Set()));
    set.add(abort);
    return () => {
      set.delete(abort);
      if (set.size === 0 && this.#running.get(dagId) === set) this.#running.delete(dagId);
    };
  }

  /**
   * Whether the watch reported the DAG canceled or deleted lately: the start gate then checks its
   * meta (the report may have come before the handler was registered, or be about an earlier DAG
   * under the same id).
   */
  suspect(dagId: string): boolean {
    return this.#ended.has(dagId);
  }

  /** Ends the watch. */
  stop(): void {
    this.#stop.abort();
  }

  #open(): Promise<void> {
    return followKv(this.store.kv, {
      key: "*.meta",
      onEntry: (entry) => {
        if (entry.operation !== "PUT" || contains(entry.value, CANCELED_STATUS)) this.#seen(entry.key.slice(0, -".meta".length));
      },
      signal: this.#stop.signal,
      logger: this.logger,
      what: "workflow: the watch for canceled DAGs (running steps of DAGs canceled meanwhile finish unaborted)",
    });
  }

  /** Remembers the DAG as ended and, once its meta confirms it, aborts its handlers running here. */
  #seen(dagId: string): void {
    this.#ended.delete(dagId);
    this.#ended.add(dagId);
    if (this.#ended.size > REMEMBERED) this.#ended.delete(this.#ended.values().next().value!);
    if (!this.#running.has(dagId)) return;
    void this.endedNow(dagId).then(
      (ended) => {
        if (!ended) return;
        const reason = canceledReason(dagId, ended);
        for (const abort of this.#running.get(dagId) ?? []) abort(reason);
      },
      (err: unknown) => this.logger.debug({ dag_id: dagId, error: (err as Error).message }, "workflow: could not confirm a canceled DAG; its handlers run on"),
    );
  }

  /** How the DAG has ended as its meta says now: canceled, deleted, or (running, re-created…) undefined. */
  async endedNow(dagId: string): Promise<"canceled" | "deleted" | undefined> {
    const meta = await this.store.kv.get(`${dagId}.meta`);
    if (meta === null) return "deleted";
    try {
      return decodeDagMeta(meta.value).status === "canceled" ? "canceled" : undefined;
    } catch {
      return undefined;
    }
  }
}
