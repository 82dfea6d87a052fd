/**
 * Waiting for a step's result or a DAG's end from any process (reference §3.24, improved): unknown
 * ids fail at once (§8.3 item 17, fixed), and the wait follows the records themselves, so a
 * failure, skip or cancel rejects as soon as it is written, not at the next poll.
 *
 * Every await of a process shares one KV watch (issue 14; `store/shared-watch.ts`): step awaits the
 * watch of step records (`*.step.*`), DAG awaits the watch of metas (`*.meta`). An await registers
 * the one key it waits on, reads the records once the watch is established (so nothing written
 * afterwards is missed), and reads the step's result when its record says done. The server holds
 * one consumer per process however many awaits are outstanding, where it held one per await. A
 * slow re-read of the records (`pollMs`) backs the watch up; after the watch was down, every
 * waiter reads again at once.
 *
 * A step's result counts only once its record says `done`: a value written by an attempt that lost
 * to a cancel is never returned. ebind for Go writes the result just after the done status: an
 * await that sees the status first waits on the result's key.
 * @module
 */
import { EbindError } from "../../task/errors.js";
import { MAX_DELAY_MS } from "../../task/retry.js";
import { decodeDagMeta, decodeStepRecord } from "../model/codec.js";
import { WorkflowError } from "../model/errors.js";
import { metaKey, stepKey, validateDagId, validateStepId } from "../model/keys.js";
import type { DagMeta, StepRecord } from "../model/records.js";
import type { WorkflowCore } from "../store/core.js";
import type { SharedWatch } from "../store/shared-watch.js";

/** Options of an await. */
export interface AwaitStepOptions {
  /** Stop waiting when this aborts (rejects with the signal's reason). */
  readonly signal?: AbortSignal | undefined;
  /** Stop waiting after this many ms (`EbindError` code `timeout`). @default no limit */
  readonly timeoutMs?: number | undefined;
  /**
   * How often the records are re-read while waiting, in ms (10 or more, else `invalid_argument`): a
   * backstop; the process's shared watch reports changes as they happen, and every waiter reads
   * again when that watch is reopened after a failure. @default 5000 (it was 500 while each await
   * had a watch of its own: 10,000 awaits then re-read 20,000 records a second)
   */
  readonly pollMs?: number | undefined;
}

/** Default of {@link AwaitStepOptions.pollMs}. */
export const DEFAULT_POLL_MS = 5000;


/** The rejection for a step that ended without a result, or undefined. */
function stepFailure(record: StepRecord): WorkflowError | undefined {
  const where = `${record.dagId}/${record.stepId}`;
  const detail = [record.errorKind, record.errorMessage].filter((s) => s).join(": ");
  const suffix = detail ? `: ${detail}` : "";
  switch (record.status) {
    case "failed":
      return new WorkflowError("step_failed", `workflow: step failed: ${where}${suffix}`);
    case "skipped":
      return new WorkflowError("step_skipped", `workflow: step skipped: ${where}${suffix}`);
    case "canceled":
      return new WorkflowError("step_canceled", `workflow: step canceled: ${where}${suffix}`);
    default:
      return undefined;
  }
}

/** A value as an error message shows it: strings quoted, so "100" is not read as 100. */
function shown(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function checkOptions(options: AwaitStepOptions): void {
  const { timeoutMs, pollMs } = options;
  if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_DELAY_MS)) {
    throw new EbindError("invalid_argument", `workflow: await timeoutMs must be a number of ms from 0 to ${MAX_DELAY_MS}, got ${shown(timeoutMs)}`);
  }
  if (pollMs !== undefined && (typeof pollMs !== "number" || !Number.isFinite(pollMs) || pollMs < 10 || pollMs > MAX_DELAY_MS)) {
    throw new EbindError("invalid_argument", `workflow: await pollMs must be a number of ms from 10 to ${MAX_DELAY_MS}, got ${shown(pollMs)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new EbindError("invalid_argument", "workflow: await signal must be an AbortSignal");
  }
}

/** What one wait needs: the key to wait on, and how to judge what it sees. */
interface Wait<T> {
  /** Which of the process's shared watches reports the key. */
  readonly watch: SharedWatch;
  /** The KV key waited on (it matches the watch's pattern). */
  readonly key: string;
  /** Judges one change of the key: a value or a rejection ends the wait; undefined waits on. */
  readonly onEntry: (value: Uint8Array | undefined) => Promise<T | Error | undefined> | T | Error | undefined;
  /** Reads the records afresh: first once the watch is established, then as the backstop and at the timeout. */
  readonly reread: () => Promise<T | Error | undefined>;
  /** The timeout's message. */
  readonly what: string;
}

/**
 * Runs a {@link Wait}: registers with the shared watch, reads the records once the watch is
 * established (so nothing written afterwards is missed), then settles on the first change, poll,
 * timeout or abort that decides. A read error is retried at the next poll.
 */
function waitFor<T>(core: WorkflowCore, wait: Wait<T>, options: AwaitStepOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let ended = false;
    let remove: (() => void) | undefined;
    let poller: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const signal = options.signal;
    const end = (): void => {
      ended = true;
      remove?.();
      clearTimeout(poller);
      clearTimeout(deadline);
      signal?.removeEventListener("abort", onAbort);
    };
    const settle = (outcome: T | Error | undefined): void => {
      if (ended || outcome === undefined) return;
      end();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const fail = (err: unknown): void => {
      if (ended) return;
      end();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onAbort = (): void => fail(signal?.reason ?? new Error("aborted"));
    const check = (): Promise<void> => (ended ? Promise.resolve() : wait.reread().then(settle, () => undefined));
    const judge = (value: Uint8Array | undefined): void => {
      if (ended) return;
      try {
        const outcome = wait.onEntry(value);
        if (outcome instanceof Promise) outcome.then(settle, () => undefined);
        else settle(outcome);
      } catch {
        // a record another writer broke: the polls read it again
      }
    };
    const poll = (): void => {
      poller = setTimeout(() => void check().then(() => !ended && poll()), options.pollMs ?? DEFAULT_POLL_MS);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      deadline = setTimeout(() => {
        // One last read: what was written just now still counts.
        void wait
          .reread()
          .catch(() => undefined)
          .then((outcome) => {
            settle(outcome);
            fail(new EbindError("timeout", `workflow: ${wait.what} within ${options.timeoutMs} ms`));
          });
      }, options.timeoutMs);
    }
    void wait.watch
      .add(wait.key, { onEntry: (e) => judge(e.operation === "PUT" ? e.value : undefined), onReopen: () => void check() })
      .then(
        (rm) => {
          if (ended) return rm();
          remove = rm;
        },
        (err: unknown) => core.logger.debug("workflow: the awaits' watch could not be opened; the polls go on", { key: wait.key, error: (err as Error).message }),
      )
      .then(() => check())
      .then(() => !ended && poll());
  });
}

/**
 * The raw JSON result of a step, waiting for it (reference §3.24).
 * @throws WorkflowError `dag_not_found`, `step_not_found` (also when deleted while awaited),
 *   `step_failed` (with kind and message), `step_skipped` (naming the dependency that skipped it),
 *   `step_canceled`; EbindError `timeout`, `invalid_argument` for bad ids or options; the signal's
 *   reason on abort.
 */
export async function awaitStepRaw(core: WorkflowCore, dagId: string, stepId: string, options: AwaitStepOptions = {}): Promise<string> {
  validateDagId(dagId);
  validateStepId(stepId);
  checkOptions(options);
  const gone = (): WorkflowError => new WorkflowError("step_not_found", `workflow: step not found: ${dagId}/${stepId} (deleted while awaited)`);
  let first = true;
  /** The outcome of a record as it is now: its result once it is done, read now. */
  const outcome = async (record: StepRecord): Promise<string | Error | undefined> => {
    const failure = stepFailure(record);
    if (failure || record.status !== "done") return failure;
    const result = await core.store.getResult(dagId, stepId);
    // ebind for Go writes a step's result after its done status: wait for it.
    return result ?? (await resultWritten(core, dagId, stepId, options));
  };
  return waitFor<string>(
    core,
    {
      watch: core.awaits.steps,
      key: stepKey(dagId, stepId),
      what: `no result for ${dagId}/${stepId}`,
      onEntry: (value) => (value === undefined ? gone() : outcome(decodeStepRecord(value))),
      reread: async () => {
        if (first) {
          // The first read tells an unknown id at once.
          const [meta, current] = await Promise.all([core.store.getMeta(dagId), core.store.getStep(dagId, stepId)]);
          first = false;
          if (!meta) return new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
          if (!current) return new WorkflowError("step_not_found", `workflow: step not found: ${dagId}/${stepId}`);
          return outcome(current.value);
        }
        const current = await core.store.getStep(dagId, stepId);
        return current ? outcome(current.value) : gone();
      },
    },
    options,
  );
}

/**
 * The result of a step whose record says done but whose result is not there yet (a writer that
 * writes the status first): waits on the result's own key, within the wait's limits. Undefined when
 * the wait ends otherwise (the caller's polls carry on).
 */
async function resultWritten(core: WorkflowCore, dagId: string, stepId: string, options: AwaitStepOptions): Promise<string | undefined> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), options.pollMs ?? DEFAULT_POLL_MS);
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const result of core.store.watchResult(dagId, stepId, stop.signal)) return result;
    return undefined;
  } finally {
    clearTimeout(timer);
    stop.abort();
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** Whether a DAG has ended. */
function ended(meta: DagMeta): boolean {
  return meta.status === "done" || meta.status === "failed" || meta.status === "canceled";
}

/** The DAG's meta when it is done; the rejection of a failed DAG names a step that failed it. */
async function dagOutcome(core: WorkflowCore, meta: DagMeta): Promise<DagMeta> {
  if (meta.status === "done") return meta;
  if (meta.status === "canceled") throw new WorkflowError("dag_canceled", `workflow: DAG canceled: ${meta.id}`);
  const steps = (await core.store.listSteps(meta.id).catch(() => [])).map((s) => s.value).filter((s) => !s.optional);
  const culprit = steps.find((s) => s.status === "failed") ?? steps.find((s) => s.status === "skipped");
  const why = culprit === undefined ? "" : `: step "${culprit.stepId}" ${culprit.status}${culprit.errorKind || culprit.errorMessage ? `: ${[culprit.errorKind, culprit.errorMessage].filter((x) => x).join(": ")}` : ""}`;
  throw new WorkflowError("dag_failed", `workflow: DAG failed: ${meta.id}${why}`);
}

/**
 * Waits for a DAG to end: resolves with its meta when it is `done`.
 * @throws WorkflowError `dag_not_found` (also when deleted while awaited), `dag_failed` (naming a
 *   step that failed it, with its kind and message), `dag_canceled`; EbindError `timeout`,
 *   `invalid_argument`; the signal's reason on abort.
 */
export async function awaitDag(core: WorkflowCore, dagId: string, options: AwaitStepOptions = {}): Promise<DagMeta> {
  validateDagId(dagId);
  checkOptions(options);
  const first = await core.store.getMeta(dagId);
  if (!first) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
  if (ended(first.value)) return dagOutcome(core, first.value);
  const gone = (): WorkflowError => new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId} (deleted while awaited)`);
  const last = await waitFor<DagMeta>(
    core,
    {
      watch: core.awaits.metas,
      key: metaKey(dagId),
      what: `DAG ${dagId} did not end`,
      onEntry: (value) => {
        if (value === undefined) return gone();
        const meta = decodeDagMeta(value);
        return ended(meta) ? meta : undefined;
      },
      reread: async () => {
        const current = await core.store.getMeta(dagId);
        if (!current) return gone();
        return ended(current.value) ? current.value : undefined;
      },
    },
    options,
  );
  return dagOutcome(core, last);
}
