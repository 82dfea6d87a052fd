/**
 * How a worker process learns that a DAG whose steps it runs was canceled, to abort those handlers'
 * signals (issue 11: cancel reaches running handlers). One KV watch per process on the metas of
 * bucket `ebind-dags` (`*.meta`, updates only), opened when the first step starts; handlers register
 * their abort before the start gate runs, and a DAG seen canceled is remembered for a while, so a
 * cancel is never missed whichever of the gate, the registration and the watch's delivery comes
 * first. Correctness does not rest on the watch: the step record is canceled by compare-and-set and
 * the outcome of a canceled step is dropped; the watch only stops the work early.
 * @module
 */
import type { Logger } from "../../broker/logger.js";
import { EbindError, ErrKind, TaskError } from "../../task/errors.js";
import { decodeDagMeta } from "../model/codec.js";
import type { DagStore } from "../store/store.js";

/** DAG ids remembered as canceled, at most. */
const REMEMBERED = 4096;
/** Wait before reopening a watch that ended. */
const REOPEN_MS = 1000;

const CANCELED_STATUS = new TextEncoder().encode('"status":"canceled"');

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The abort reason a handler of a canceled DAG sees. */
export function canceledReason(dagId: string): TaskError {
  return new TaskError(ErrKind.Canceled, `DAG ${dagId} was canceled`, { retryable: false });
}

/** Aborts running step handlers of canceled DAGs, in one process. */
export class CancelWatch {
  readonly #running = new Map<string, Set<(reason: TaskError) => void>>();
  readonly #canceled = new Set<string>();
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
   * Registers a running handler of `dagId`; `abort` is called if the DAG is (or was recently seen)
   * canceled. Call before checking whether the step may start.
   * @returns the function that unregisters it.
   */
  register(dagId: string, abort: (reason: TaskError) => void): () => void {
    let set = this.#running.get(dagId);
    if (!set) this.#running.set(dagId, (set = new Set()));
    set.add(abort);
    if (this.#canceled.has(dagId)) abort(canceledReason(dagId));
    return () => {
      set.delete(abort);
      if (set.size === 0 && this.#running.get(dagId) === set) this.#running.delete(dagId);
    };
  }

  /** Ends the watch. */
  stop(): void {
    this.#stop.abort();
  }

  #open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let established = false;
      const loop = async (): Promise<void> => {
        for (;;) {
          try {
            const changes = this.store.kv.watch({
              key: "*.meta",
              include: "updates",
              signal: this.#stop.signal,
              onReady: () => {
                established = true;
                resolve();
              },
            });
            for await (const entry of changes) if (entry.operation === "PUT" && contains(entry.value, CANCELED_STATUS)) this.#seen(entry.value);
          } catch (err) {
            if (!established) return reject(err instanceof Error ? err : new Error(String(err)));
            if (err instanceof EbindError && err.code === "closed") return;
            this.logger.warn("workflow: the watch for canceled DAGs failed; reopening it (running steps of DAGs canceled meanwhile finish unaborted)", {
              error: (err as Error).message,
            });
          }
          if (this.#stop.signal.aborted) return;
          if (!established) return reject(new EbindError("unavailable", "workflow: the watch for canceled DAGs ended before it was established"));
          await new Promise((r) => setTimeout(r, REOPEN_MS).unref());
          if (this.#stop.signal.aborted) return;
        }
      };
      void loop();
    });
  }

  #seen(value: Uint8Array): void {
    let dagId: string;
    try {
      const meta = decodeDagMeta(value);
      if (meta.status !== "canceled") return;
      dagId = meta.id;
    } catch {
      return; // a record another writer broke is not ours to judge here
    }
    if (this.#canceled.has(dagId)) this.#canceled.delete(dagId);
    this.#canceled.add(dagId);
    if (this.#canceled.size > REMEMBERED) this.#canceled.delete(this.#canceled.values().next().value!);
    const reason = canceledReason(dagId);
    for (const abort of this.#running.get(dagId) ?? []) abort(reason);
  }
}
