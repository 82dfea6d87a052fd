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
 * waiter reads again at once. An outstanding await is one object (`ops/waiting.ts`) and its promise:
 * the polls of a process share one timer (`store/poll-wheel.ts`) and the awaits that pass one
 * signal share one abort listener (`ops/abort-group.ts`) — about 0.7 KB each, where a promise
 * chain, closures, a timer and a listener per await took 6.3 KB.
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
import { Waiting, type Verdict, type WaitSettings } from "./waiting.js";

/** Options of an await. */
export interface AwaitStepOptions {
  /** Stop waiting when this aborts (rejects with the signal's reason). */
  readonly signal?: AbortSignal | undefined;
  /** Stop waiting after this many ms (`EbindError` code `timeout`). @default no limit */
  readonly timeoutMs?: number | undefined;
  /**
   * How often the records are re-read while waiting, in ms (10 to 2^31−1, else `invalid_argument`):
   * a backstop; the process's shared watch reports changes as they happen, and every waiter reads
   * again when that watch is reopened after a failure. The polls of a process share one timer, so
   * a poll may run up to 1/64 of this late (64 ms at the default; none under 128 ms).
   * @default 5000 (it was 500 while each await had a watch of its own: 10,000 awaits then re-read
   * 20,000 records a second)
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

/** Checks the options and fills in the defaults. @throws EbindError `invalid_argument`. */
function settings(options: AwaitStepOptions): WaitSettings & { readonly timeoutMs: number | undefined } {
  checkOptions(options);
  return { signal: options.signal, timeoutMs: options.timeoutMs, pollMs: options.pollMs ?? DEFAULT_POLL_MS };
}

/** A wait for a step's result: its raw JSON text, or (`parse`) the value it encodes. */
class StepWait extends Waiting<string> {
  #first = true;

  constructor(
    core: WorkflowCore,
    private readonly dagId: string,
    private readonly stepId: string,
    private readonly parse: boolean,
    settings: WaitSettings,
  ) {
    super(core, core.awaits.steps, stepKey(dagId, stepId), settings);
  }

  protected judge(value: Uint8Array | undefined): Verdict<string> | Promise<Verdict<string>> {
    return value === undefined ? this.#gone() : this.#outcome(decodeStepRecord(value));
  }

  protected async reread(): Promise<Verdict<string>> {
    const { store } = this.core;
    if (this.#first) {
      // The first read tells an unknown id at once.
      const [meta, current] = await Promise.all([store.getMeta(this.dagId), store.getStep(this.dagId, this.stepId)]);
      this.#first = false;
      if (!meta) return new WorkflowError("dag_not_found", `workflow: DAG not found: ${this.dagId}`);
      if (!current) return new WorkflowError("step_not_found", `workflow: step not found: ${this.dagId}/${this.stepId}`);
      return this.#outcome(current.value);
    }
    const current = await store.getStep(this.dagId, this.stepId);
    return current ? this.#outcome(current.value) : this.#gone();
  }

  protected missed(): string {
    return `no result for ${this.dagId}/${this.stepId}`;
  }

  protected override output(raw: string): unknown {
    return this.parse ? JSON.parse(raw) : raw;
  }

  #gone(): WorkflowError {
    return new WorkflowError("step_not_found", `workflow: step not found: ${this.dagId}/${this.stepId} (deleted while awaited)`);
  }

  /** The outcome of a record as it is now: its result once it is done, read now. */
  async #outcome(record: StepRecord): Promise<Verdict<string>> {
    const failure = stepFailure(record);
    if (failure || record.status !== "done") return failure;
    const result = await this.core.store.getResult(this.dagId, this.stepId);
    // ebind for Go writes a step's result after its done status: wait for it.
    return result ?? (await resultWritten(this.core, this.dagId, this.stepId, this.signal, this.pollMs));
  }
}

/**
 * The raw JSON result of a step, waiting for it (reference §3.24).
 * @throws WorkflowError `dag_not_found`, `step_not_found` (also when deleted while awaited),
 *   `step_failed` (with kind and message), `step_skipped` (naming the dependency that skipped it),
 *   `step_canceled`; EbindError `timeout`, `invalid_argument` for bad ids or options; the signal's
 *   reason on abort.
 */
export function awaitStepRaw(core: WorkflowCore, dagId: string, stepId: string, options: AwaitStepOptions = {}): Promise<string> {
  return awaitStep(core, dagId, stepId, options, false) as Promise<string>;
}

/** The result of a step, decoded from its JSON; waits for it. Throws like {@link awaitStepRaw} (and a SyntaxError for a result that is not JSON). */
export function awaitStepResult(core: WorkflowCore, dagId: string, stepId: string, options: AwaitStepOptions = {}): Promise<unknown> {
  return awaitStep(core, dagId, stepId, options, true);
}

function awaitStep(core: WorkflowCore, dagId: string, stepId: string, options: AwaitStepOptions, parse: boolean): Promise<unknown> {
  let checked: ReturnType<typeof settings>;
  try {
    validateDagId(dagId);
    validateStepId(stepId);
    checked = settings(options);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return new StepWait(core, dagId, stepId, parse, checked).start(checked.timeoutMs, false);
}

/**
 * The result of a step whose record says done but whose result is not there yet (a writer that
 * writes the status first): waits on the result's own key, within the wait's limits. Undefined when
 * the wait ends otherwise (the caller's polls carry on).
 */
async function resultWritten(core: WorkflowCore, dagId: string, stepId: string, signal: AbortSignal | undefined, pollMs: number): Promise<string | undefined> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), pollMs);
  const onAbort = (): void => stop.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const result of core.store.watchResult(dagId, stepId, stop.signal)) return result;
    return undefined;
  } finally {
    clearTimeout(timer);
    stop.abort();
    signal?.removeEventListener("abort", onAbort);
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

/** A wait for a DAG to end. Its first read comes before the watch, so an ended DAG opens none. */
class DagWait extends Waiting<DagMeta> {
  #first = true;

  constructor(
    core: WorkflowCore,
    private readonly dagId: string,
    settings: WaitSettings,
  ) {
    super(core, core.awaits.metas, metaKey(dagId), settings);
  }

  protected judge(value: Uint8Array | undefined): Verdict<DagMeta> {
    if (value === undefined) return this.#gone();
    const meta = decodeDagMeta(value);
    return ended(meta) ? meta : undefined;
  }

  protected async reread(): Promise<Verdict<DagMeta>> {
    const current = await this.core.store.getMeta(this.dagId);
    const first = this.#first;
    this.#first = false;
    if (!current) return first ? new WorkflowError("dag_not_found", `workflow: DAG not found: ${this.dagId}`) : this.#gone();
    return ended(current.value) ? current.value : undefined;
  }

  protected missed(): string {
    return `DAG ${this.dagId} did not end`;
  }

  protected override output(meta: DagMeta): unknown {
    return dagOutcome(this.core, meta);
  }

  #gone(): WorkflowError {
    return new WorkflowError("dag_not_found", `workflow: DAG not found: ${this.dagId} (deleted while awaited)`);
  }
}

/**
 * Waits for a DAG to end: resolves with its meta when it is `done`.
 * @throws WorkflowError `dag_not_found` (also when deleted while awaited), `dag_failed` (naming a
 *   step that failed it, with its kind and message), `dag_canceled`; EbindError `timeout`,
 *   `invalid_argument`; the signal's reason on abort.
 */
export function awaitDag(core: WorkflowCore, dagId: string, options: AwaitStepOptions = {}): Promise<DagMeta> {
  let checked: ReturnType<typeof settings>;
  try {
    validateDagId(dagId);
    checked = settings(options);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return new DagWait(core, dagId, checked).start(checked.timeoutMs, true) as Promise<DagMeta>;
}
