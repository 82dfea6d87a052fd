/**
 * Waiting for a step's result or a DAG's end from any process (reference §3.24, improved): unknown
 * ids fail at once (§8.3 item 17, fixed), and the wait follows the records themselves through one
 * KV watch — the step's record and result (`<dag>.*.<step>`), or the DAG's meta — so a failure,
 * skip or cancel rejects as soon as it is written, not at the next poll. A slow re-read of the
 * records (`pollMs`) backs the watch up.
 *
 * A step's result counts only once its record says `done`: a value written by an attempt that lost
 * to a cancel is never returned.
 * @module
 */
import { EbindError } from "../../task/errors.js";
import { MAX_DELAY_MS } from "../../task/retry.js";
import { decodeDagMeta, decodeStepRecord } from "../model/codec.js";
import { WorkflowError } from "../model/errors.js";
import { metaKey, resultKey, stepKey, validateDagId, validateStepId } from "../model/keys.js";
import type { DagMeta, StepRecord } from "../model/records.js";
import type { WorkflowCore } from "../store/core.js";

/** Options of an await. */
export interface AwaitStepOptions {
  /** Stop waiting when this aborts (rejects with the signal's reason). */
  readonly signal?: AbortSignal | undefined;
  /** Stop waiting after this many ms (`EbindError` code `timeout`). @default no limit */
  readonly timeoutMs?: number | undefined;
  /**
   * How often the records are re-read while waiting, in ms (10 or more, else `invalid_argument`): a
   * backstop; the watch reports changes as they happen. @default 500
   */
  readonly pollMs?: number | undefined;
}

const text = new TextDecoder();

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

/** What one wait needs: the keys to watch, and how to judge what it sees. */
interface Wait<T> {
  /** The KV key (or pattern) to watch, with its latest values first. */
  readonly key: string;
  /** Judges one watched entry: a value or a rejection ends the wait; undefined waits on. */
  readonly onEntry: (key: string, value: Uint8Array | undefined) => T | Error | undefined;
  /** Reads the records afresh (the backstop and the last chance at the timeout). */
  readonly reread: () => Promise<T | Error | undefined>;
  /** The timeout's message. */
  readonly what: string;
}

/** Runs a {@link Wait}: the watch, the backstop polls, the timeout and the caller's signal. */
async function waitFor<T>(core: WorkflowCore, wait: Wait<T>, options: AwaitStepOptions): Promise<T> {
  const stop = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await new Promise<T>((resolve, reject) => {
      const settle = (outcome: T | Error | undefined): boolean => {
        if (outcome === undefined) return false;
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
        stop.abort();
        return true;
      };
      stop.signal.addEventListener("abort", () => reject(stop.signal.reason instanceof Error ? stop.signal.reason : new Error("aborted")), { once: true });
      if (options.signal?.aborted) onAbort();
      void (async () => {
        try {
          for await (const e of core.store.kv.watch({ key: wait.key, include: "last", signal: stop.signal })) {
            if (settle(wait.onEntry(e.key, e.operation === "PUT" ? e.value : undefined))) return;
          }
        } catch (err) {
          if (!stop.signal.aborted) core.logger.debug("workflow: an await's watch ended; the polls go on", { key: wait.key, error: (err as Error).message });
        }
      })();
      const poll = async (): Promise<void> => {
        if (stop.signal.aborted) return;
        if (settle(await wait.reread().catch(() => undefined))) return; // a read error is retried at the next poll
        timers.push(setTimeout(() => void poll(), options.pollMs ?? 500));
      };
      timers.push(setTimeout(() => void poll(), options.pollMs ?? 500));
      if (options.timeoutMs !== undefined) {
        const expire = async (): Promise<void> => {
          // One last read: what was written just now still counts.
          if (settle(await wait.reread().catch(() => undefined))) return;
          stop.abort(new EbindError("timeout", `workflow: ${wait.what} within ${options.timeoutMs} ms`));
        };
        timers.push(setTimeout(() => void expire(), options.timeoutMs));
      }
    });
  } finally {
    stop.abort();
    for (const t of timers) clearTimeout(t);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

function resultText(value: Uint8Array): string {
  const raw = text.decode(value).trim();
  return raw === "" ? "null" : raw;
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
  const [meta, first] = await Promise.all([core.store.getMeta(dagId), core.store.getStep(dagId, stepId)]);
  if (!meta) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
  if (!first) throw new WorkflowError("step_not_found", `workflow: step not found: ${dagId}/${stepId}`);
  const early = stepFailure(first.value);
  if (early) throw early;

  const gone = (): WorkflowError => new WorkflowError("step_not_found", `workflow: step not found: ${dagId}/${stepId} (deleted while awaited)`);
  let record: StepRecord = first.value;
  let result: string | undefined;
  const judge = (): string | Error | undefined => stepFailure(record) ?? (record.status === "done" && result !== undefined ? result : undefined);
  return waitFor<string>(
    core,
    {
      key: `${dagId}.*.${stepId}`,
      what: `no result for ${dagId}/${stepId}`,
      onEntry: (key, value) => {
        if (key === stepKey(dagId, stepId)) {
          if (value === undefined) return gone();
          try {
            record = decodeStepRecord(value);
          } catch {
            return undefined; // a record another writer broke: the polls read it again
          }
        } else if (key === resultKey(dagId, stepId)) {
          result = value === undefined ? undefined : resultText(value);
        }
        return judge();
      },
      reread: async () => {
        const current = await core.store.getStep(dagId, stepId);
        if (!current) return gone();
        record = current.value;
        if (record.status === "done") result = (await core.store.getResult(dagId, stepId)) ?? result;
        return judge();
      },
    },
    options,
  );
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
      key: metaKey(dagId),
      what: `DAG ${dagId} did not end`,
      onEntry: (_key, value) => {
        if (value === undefined) return gone();
        try {
          const meta = decodeDagMeta(value);
          return ended(meta) ? meta : undefined;
        } catch {
          return undefined;
        }
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
