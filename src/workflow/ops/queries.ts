/**
 * Reading workflows (reference §3.20, §3.24): await a step's result from any process, a DAG's
 * records, DAGs by labels.
 * @module
 */
import { EbindError } from "../../task/errors.js";
import { MAX_DELAY_MS } from "../../task/retry.js";
import { validateDagId, validateStepId } from "../model/keys.js";
import type { WorkflowCore } from "../store/core.js";
import { WorkflowError } from "../model/errors.js";
import type { DagMeta, StepRecord } from "../model/records.js";

/** Options of {@link awaitStep}. */
export interface AwaitStepOptions {
  /** Stop waiting when this aborts. */
  readonly signal?: AbortSignal | undefined;
  /** Stop waiting after this many ms (`EbindError` code `timeout`). */
  readonly timeoutMs?: number | undefined;
  /** How often the step's status is re-read while waiting, in ms (10 or more, else `invalid_argument`). @default 500 */
  readonly pollMs?: number | undefined;
}

function failureOf(record: StepRecord): WorkflowError | undefined {
  const where = `${record.dagId}/${record.stepId}`;
  switch (record.status) {
    case "failed": {
      const detail = [record.errorKind, record.errorMessage].filter((s) => s).join(": ");
      return new WorkflowError("step_failed", `workflow: step failed: ${where}${detail ? `: ${detail}` : ""}`);
    }
    case "skipped":
      return new WorkflowError("step_skipped", `workflow: step skipped: ${where}`);
    case "canceled":
      return new WorkflowError("step_canceled", `workflow: step canceled: ${where}`);
    default:
      return undefined;
  }
}

/**
 * The raw JSON result of a step, waiting for it (reference §3.24). Fails at once when the DAG or
 * the step does not exist (reference §8.3 item 17, fixed).
 * @throws WorkflowError `dag_not_found`, `step_not_found`, `step_failed` (with kind and message),
 *   `step_skipped`, `step_canceled`; EbindError `timeout`; the signal's reason on abort.
 */
export async function awaitStepRaw(core: WorkflowCore, dagId: string, stepId: string, options: AwaitStepOptions = {}): Promise<string> {
  validateDagId(dagId);
  validateStepId(stepId);
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_DELAY_MS)) {
    throw new EbindError("invalid_argument", `workflow: await timeoutMs must be a number of ms from 0 to ${MAX_DELAY_MS}, got ${String(timeoutMs)}`);
  }
  const { pollMs } = options;
  if (pollMs !== undefined && (typeof pollMs !== "number" || !Number.isFinite(pollMs) || pollMs < 10 || pollMs > MAX_DELAY_MS)) {
    throw new EbindError("invalid_argument", `workflow: await pollMs must be a number of ms from 10 to ${MAX_DELAY_MS}, got ${String(pollMs)}`);
  }
  const [meta, first] = await Promise.all([core.store.getMeta(dagId), core.store.getStep(dagId, stepId)]);
  if (!meta) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
  if (!first) throw new WorkflowError("step_not_found", `workflow: step not found: ${dagId}/${stepId}`);
  const early = failureOf(first.value);
  if (early) throw early;

  const stop = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let lastChance: string | undefined;
  if (timeoutMs !== undefined) {
    const expire = async (): Promise<void> => {
      // One last read: a result written just now still counts.
      const last = await core.store.getResult(dagId, stepId).catch(() => undefined);
      if (last !== undefined) lastChance = last;
      stop.abort(new EbindError("timeout", `workflow: no result for ${dagId}/${stepId} within ${timeoutMs} ms`));
    };
    timers.push(setTimeout(() => void expire(), timeoutMs));
  }
  try {
    return await new Promise<string>((resolve, reject) => {
      stop.signal.addEventListener(
        "abort",
        () => (lastChance !== undefined ? resolve(lastChance) : reject(stop.signal.reason instanceof Error ? stop.signal.reason : new Error("aborted"))),
        { once: true },
      );
      // The result appears only after the step is done; watch it, and poll the status for failures.
      void (async () => {
        try {
          for await (const raw of core.store.watchResult(dagId, stepId, stop.signal)) return resolve(raw);
        } catch (err) {
          if (!stop.signal.aborted) reject(err instanceof Error ? err : new Error(String(err)));
        }
      })();
      const poll = async (): Promise<void> => {
        if (stop.signal.aborted) return;
        try {
          const current = await core.store.getStep(dagId, stepId);
          if (!current) return reject(new WorkflowError("step_not_found", `workflow: step not found: ${dagId}/${stepId} (deleted while awaited)`));
          const failure = failureOf(current.value);
          if (failure) return reject(failure);
        } catch {
          // a read error is retried at the next poll
        }
        timers.push(setTimeout(() => void poll(), options.pollMs ?? 500));
      };
      timers.push(setTimeout(() => void poll(), options.pollMs ?? 500));
    });
  } finally {
    stop.abort();
    for (const t of timers) clearTimeout(t);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** A DAG's meta and steps (sorted by when they were added, then id). */
export interface DagInfo {
  readonly meta: DagMeta;
  readonly steps: StepRecord[];
}

/**
 * @throws WorkflowError `dag_not_found`.
 */
export async function dagInfo(core: WorkflowCore, dagId: string): Promise<DagInfo> {
  validateDagId(dagId);
  const loaded = await core.store.load(dagId);
  if (!loaded) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
  const steps = [...loaded.state.steps.values()].sort((a, b) => a.addedAt.getTime() - b.addedAt.getTime() || a.stepId.localeCompare(b.stepId));
  return { meta: loaded.state.meta, steps };
}

/** Metas of the DAGs carrying every one of `labels` (all DAGs when none), newest first (reference §3.20). */
export async function listDagsByLabels(core: WorkflowCore, labels: readonly string[]): Promise<DagMeta[]> {
  const metas = await core.store.listMetas();
  return metas
    .filter((m) => labels.every((l) => m.labels?.includes(l)))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
}
