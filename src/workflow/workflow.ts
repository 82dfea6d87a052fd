/**
 * The workflow engine's entry point (reference §1.7.1): durable DAGs of tasks whose results flow
 * into later steps, their state in the KV bucket `ebind-dags`, their events on `EBIND_DAG_EVENTS`.
 *
 * @example
 * const workflow = await Workflow.create(broker);
 * const worker = await Worker.start(broker, registry, { stepHook: workflow.stepHook, middleware: [workflow.middleware] });
 * const scheduler = await workflow.startScheduler();
 * const dag = workflow.dag();
 * const a = dag.step("add", add, 2, 3);
 * const b = dag.step("double", double, a.ref());
 * await workflow.submit(dag);
 * console.log(await workflow.await(b)); // 10
 * @module
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../broker/logger.js";
import { resolveLogger } from "../broker/logger.js";
import type { Telemetry } from "../broker/telemetry.js";
import { safeTelemetry } from "../broker/telemetry-guard.js";
import type { Broker } from "../broker/port.js";
import { deploymentReplicas } from "../broker/topology.js";
import { EbindError } from "../task/errors.js";
import type { Middleware } from "../worker/middleware.js";
import type { StepHook } from "../worker/step-hook.js";
import { DagBuilder, type DagOptions, type Step } from "./build/builder.js";
import { cancelDag, deleteDag } from "./ops/controls.js";
import type { WorkflowCore } from "./store/core.js";
import { workflowMiddleware, type DynamicStep } from "./steps/dynamic.js";
import { KvLeaderElector } from "./run/elector.js";
import { eventStreamSpec } from "./store/events.js";
import { createStepHook } from "./steps/hook.js";
import { DAG_BUCKET } from "./model/keys.js";
import { dagInfo, debugReport, listDagsByLabels, type DagInfo } from "./ops/queries.js";
import { pauseByLabels, pauseDag, resumeByLabels, resumeDag, type LabelControlResult } from "./ops/pause.js";
import { listBreakpoints, resumeBreakpoint } from "./ops/breakpoints.js";
import { listSignals, sendSignal, type SignalOptions } from "./ops/signals.js";
import type { SignalDef, SignalName } from "./build/signals.js";
import type { BreakpointInfo, DagDebug, SignalInfo } from "./plan/index.js";
import { PollWheel } from "./store/poll-wheel.js";
import { SharedWatch } from "./store/shared-watch.js";
import { awaitDag, awaitStepResult, type AwaitStepOptions } from "./ops/await.js";
import type { DagMeta, DagStatus } from "./model/records.js";
import { RecentStarts } from "./store/recent-starts.js";
import { Scheduler, type SchedulerOptions } from "./run/scheduler.js";
import { DagStore } from "./store/store.js";
import { countDagSteps, listDags, type DagSummary, type ListDagsOptions, type StepCounts } from "./ops/listing.js";
import { stepRecord, storedResult, watchDagChanges, type DagChange, type StepRecordAt, type WatchDagsOptions } from "./ops/records.js";
import { submitDag, type SubmitOptions } from "./ops/submit.js";
import { prepareRequeue } from "./ops/requeue.js";
import type { DlqEntry, Task } from "../task/envelope.js";

/** Options of {@link Workflow.create}. */
export interface WorkflowOptions {
  /**
   * Replicas of the KV buckets (`ebind-dags`, and the scheduler's `ebind-leader`) and the event
   * stream. @default the task stream's replicas (1 when it does not exist)
   */
  readonly replicas?: number | undefined;
  /** Longest error message stored on a failed step, in bytes; 0 = 4096; negative = none. @default 4096 */
  readonly maxStepErrorBytes?: number | undefined;
  /** @default consoleLogger("warn") */
  readonly logger?: Logger | undefined;
  /**
   * An observer of this workflow's DAGs (`ebind/otel`'s `openTelemetry()`, a Prometheus adapter,
   * several through `combineTelemetry`), used by {@link Workflow.submit} and by every scheduler this
   * handle starts:
   * - submit calls `dagSubmit({ dagId, steps, labels })` once the DAG passed its checks, before
   *   anything is written; the trace context its scope returns is stored in the DAG's meta
   *   (`trace_ctx`, an extension Go ignores), and the scope ends when the submit returns or throws;
   * - starting a step calls `publish({ kind: "step", task, subject, parent })` with `parent` the
   *   meta's `trace_ctx`; the step's task carries the scope's trace context, else the meta's (also
   *   with no telemetry, so a trace begun at submit reaches the steps whoever schedules them);
   * - a scheduler taking an event calls `schedulerEvent({ dagId, kind, lagMs })`, `lagMs` from the
   *   event's stream timestamp (the server's clock) to now (this process's clock; at least 0).
   * A hook that throws is logged once (per hook, at warn) and ignored. @default none
   * @throws EbindError `invalid_argument` at {@link Workflow.create} when it is not an object of functions.
   */
  readonly telemetry?: Telemetry | undefined;
}

/** A handle on the workflow layer over one broker. */
export class Workflow {
  readonly #core: WorkflowCore;
  readonly #hook: StepHook & { close(): void };
  /**
   * The hook to give workers (`stepHook` option): the start gate that keeps paused and canceled
   * steps from starting (and aborts handlers of canceled DAGs), and the recording of step outcomes.
   */
  readonly stepHook: StepHook;
  /** The middleware to give workers: DAG context for step handlers (`dagContext(ctx)`). */
  readonly middleware: Middleware;
  /**
   * Give to `requeueDeadLetter(broker, seq, { prepare: workflow.prepareRequeue })` (issue 12): for
   * the task of a failed DAG step, reopens the step (`running`, a new start; the requeued task is
   * that start's), puts the steps its failure skipped back to `pending` and the DAG back to
   * `running`, so the step's new outcome counts and awaits started afterwards wait for it. Other
   * tasks are returned unchanged.
   * @throws EbindError `conflict` (the requeue is refused, nothing published, the entry kept) when
   *   the DAG was deleted or canceled, is paused, or the step is not failed (requeued already) or
   *   failed in a later start than the entry's.
   */
  readonly prepareRequeue: (task: Task, entry: DlqEntry) => Promise<Task>;

  private constructor(core: WorkflowCore) {
    this.#core = core;
    this.#hook = createStepHook(core);
    this.stepHook = this.#hook;
    this.middleware = workflowMiddleware(core);
    this.prepareRequeue = (task, entry) => prepareRequeue(core, task, entry);
  }

  /**
   * Opens (creating if needed) the KV bucket `ebind-dags` and the stream `EBIND_DAG_EVENTS`.
   * @throws EbindError from the backend; `invalid_argument` for bad options.
   */
  static async create(broker: Broker, options: WorkflowOptions = {}): Promise<Workflow> {
    const logger = resolveLogger(options.logger, "workflow.logger");
    const telemetry = safeTelemetry(options.telemetry, logger, "workflow.telemetry");
    const replicas = options.replicas ?? (await deploymentReplicas(broker));
    if (!Number.isInteger(replicas) || replicas < 1) throw new EbindError("invalid_argument", `workflow.replicas must be an integer ≥ 1, got ${String(replicas)}`);
    const maxStepErrorBytes = options.maxStepErrorBytes ?? 0;
    if (!Number.isSafeInteger(maxStepErrorBytes)) throw new EbindError("invalid_argument", `workflow.maxStepErrorBytes must be an integer, got ${String(maxStepErrorBytes)}`);
    await broker.ensureStream({ ...eventStreamSpec(replicas), keepMoreReplicas: options.replicas === undefined });
    const kv = await broker.kv(DAG_BUCKET, { replicas, history: 1 });
    const awaits = {
      steps: new SharedWatch(kv, "*.step.*", logger, "workflow: the awaits' watch of step records"),
      metas: new SharedWatch(kv, "*.meta", logger, "workflow: the awaits' watch of DAG metas"),
      polls: new PollWheel(),
    };
    return new Workflow({ broker, replicas, store: new DagStore(kv), logger, telemetry, maxStepErrorBytes, recentStarts: new RecentStarts(), awaits });
  }

  /**
   * The broker this workflow was created on: its DAGs are in that broker's KV bucket `ebind-dags`,
   * so two Workflows on one broker see the same DAGs (`ebind/prometheus` counts them once).
   */
  get broker(): Broker {
    return this.#core.broker;
  }

  /** A new DAG to build (`dag.step(...)`) and then {@link submit}. */
  dag(options: DagOptions = {}): DagBuilder {
    return new DagBuilder(options);
  }

  /**
   * Persists the DAG and starts its root steps. All or nothing: every record and step task is
   * measured against the server's max payload before anything is written, and a write failing
   * half-way deletes what was written (the id can be submitted again).
   * @throws WorkflowError `invalid` (empty, already submitted, a bad step or argument), `cycle`,
   *   `stale_revision` when a DAG with this id exists; EbindError `payload_too_large` naming the
   *   step, its size and the limit (the server's max payload less 16 KiB); a store error (e.g.
   *   `unavailable`) when a write failed — if even the roll-back failed, the message says so and the
   *   half-written DAG, which no scheduler runs, is removed by {@link deleteDag}.
   */
  submit(dag: DagBuilder, options?: SubmitOptions): Promise<DagMeta> {
    return submitDag(this.#core, dag, options);
  }

  /**
   * Starts a scheduler (one per process is enough; several may run). By default it campaigns for
   * the sweep with a lease in the KV bucket `ebind-leader`.
   */
  async startScheduler(options: SchedulerOptions = {}): Promise<Scheduler> {
    const elector = options.elector ?? new KvLeaderElector(this.#core.broker, { id: randomUUID(), logger: this.#core.logger, replicas: this.#core.replicas });
    const scheduler = new Scheduler(this.#core, { ...options, elector });
    await scheduler.start();
    return scheduler;
  }

  /**
   * The result of a step, typed by its handler's result (`null` for a handler that returns
   * nothing). Throws like {@link awaitById}.
   */
  await<R>(step: Step<R> | DynamicStep<R>, options?: AwaitStepOptions): Promise<R> {
    return this.awaitById<R>(step.dagId, step.id, options);
  }

  /**
   * The result of step `stepId` of DAG `dagId`, from any process; waits for it.
   * @throws WorkflowError `dag_not_found` / `step_not_found` at once for unknown ids; `step_failed`,
   *   `step_skipped` (naming the dependency that skipped it), `step_canceled` (at once when its DAG
   *   is canceled); EbindError `timeout`.
   */
  awaitById<R = unknown>(dagId: string, stepId: string, options?: AwaitStepOptions): Promise<R> {
    return awaitStepResult(this.#core, dagId, stepId, options) as Promise<R>;
  }

  /**
   * Waits for a DAG to end; resolves with its meta when it is `done`. Works from any process.
   * @throws WorkflowError `dag_not_found` at once for an unknown id, `dag_failed`, `dag_canceled`;
   *   EbindError `timeout`.
   */
  awaitDag(dagId: string, options?: AwaitStepOptions): Promise<DagMeta> {
    return awaitDag(this.#core, dagId, options);
  }

  /**
   * Stops what this handle runs in the background: for workers the watch that aborts handlers of
   * canceled DAGs, for awaits their shared watches (an await still outstanding then goes on by its
   * polls alone, until a later await opens the watch again). Schedulers are stopped on their own; the broker stays open.
   * Idempotent.
   */
  close(): void {
    this.#hook.close();
    this.#core.awaits.steps.close();
    this.#core.awaits.metas.close();
  }

  /**
   * The DAG's meta and steps; each pending step says what it waits on (`waitingOn`: dependencies, a
   * pause hold, breakpoints, signals).
   * @throws EbindError `invalid_argument` for a malformed id; WorkflowError `dag_not_found`.
   */
  dagInfo(dagId: string): Promise<DagInfo> {
    return dagInfo(this.#core, dagId);
  }

  /**
   * The debug report of a DAG (reference §3.27): counts, per-step times, blockers, breakpoints and
   * signals. Render it with `formatDebug(report)`.
   * @throws EbindError `invalid_argument` for a malformed id; WorkflowError `dag_not_found`.
   */
  debug(dagId: string): Promise<DagDebug> {
    return debugReport(this.#core, dagId);
  }

  /**
   * Pauses a running DAG (reference §3.18): steps running now finish (keeping their retry chain),
   * nothing new starts. Once this returns no step of the DAG starts until {@link resume}.
   * @returns the status afterwards: `pausing` while steps still run, then `paused`; `done`/`failed`
   *   when every step had finished (nothing was left to hold).
   * @throws WorkflowError `dag_not_found`; `dag_not_running` naming the DAG and its status;
   *   EbindError `invalid_argument` for a malformed id.
   */
  pause(dagId: string): Promise<DagStatus> {
    return pauseDag(this.#core, dagId);
  }

  /**
   * Resumes a paused (or still pausing) DAG: holds are released and ready steps start. Breakpoints
   * stay as they are (a separate gate). On a running DAG it releases holds a resume that died
   * half-way left behind (a repair; safe to call again at any time).
   * @returns `running`, or the final status of a DAG that finished while it was pausing (a no-op).
   * @throws WorkflowError `dag_not_found`; `dag_not_paused` naming the DAG and its status for a DAG
   *   that finished without being paused, or was canceled.
   */
  resume(dagId: string): Promise<DagStatus> {
    return resumeDag(this.#core, dagId);
  }

  /**
   * Pauses every running DAG carrying all of `labels`.
   * @returns one entry per DAG (its status afterwards, or the error it met), sorted by id.
   * @throws WorkflowError `invalid` for no labels, an empty one, or one that no DAG carries.
   */
  pauseByLabels(...labels: string[]): Promise<LabelControlResult[]> {
    return pauseByLabels(this.#core, labels);
  }

  /**
   * Resumes every pausing or paused DAG carrying all of `labels`.
   * @returns one entry per DAG (its status afterwards, or the error it met), sorted by id.
   * @throws WorkflowError `invalid` for no labels, an empty one, or one that no DAG carries.
   */
  resumeByLabels(...labels: string[]): Promise<LabelControlResult[]> {
    return resumeByLabels(this.#core, labels);
  }

  /**
   * Releases the breakpoint stops of the DAG carrying `label` (reference §3.19). The label stays
   * armed; a release while the DAG is paused takes effect on resume.
   * @returns how many stops were released.
   * @throws WorkflowError `dag_not_found`; `invalid` for a label no step of the DAG declares.
   */
  resumeBreakpoint(dagId: string, label: string): Promise<number> {
    return resumeBreakpoint(this.#core, dagId, label);
  }

  /** The DAG's breakpoints: armed, blocked or released, since when, and what waits behind them. @throws WorkflowError `dag_not_found`. */
  listBreakpoints(dagId: string): Promise<BreakpointInfo[]> {
    return listBreakpoints(this.#core, dagId);
  }

  /**
   * Delivers a signal to a DAG (reference §3.21): the first delivery of a name wins; a signal sent
   * before the step that waits for it exists is kept for it. With a {@link SignalDef} the payload is
   * typed and checked against its schema.
   * @returns true when delivered now; false when already delivered, or the DAG has finished.
   * @throws WorkflowError `invalid` (empty name, a payload JSON cannot carry, one the schema
   *   refuses — nothing written), `dag_not_found` (unless `early`).
   */
  signal<T, In>(dagId: string, signal: SignalDef<T, In>, payload: In, options?: SignalOptions): Promise<boolean>;
  signal(dagId: string, name: string, payload?: unknown, options?: SignalOptions): Promise<boolean>;
  signal(dagId: string, signal: SignalName, payload?: unknown, options?: SignalOptions): Promise<boolean> {
    return sendSignal(this.#core, dagId, signal, payload, options);
  }

  /** The DAG's signals: delivered (with payloads) and awaited (with the steps waiting). @throws WorkflowError `dag_not_found`. */
  listSignals(dagId: string): Promise<SignalInfo[]> {
    return listSignals(this.#core, dagId);
  }

  /** DAGs carrying all of `labels` (every DAG when none), newest first. */
  listDagsByLabels(...labels: string[]): Promise<DagMeta[]> {
    return listDagsByLabels(this.#core, labels);
  }

  /** Cancels the DAG; false when it had already finished. @throws EbindError `invalid_argument` for a malformed id; WorkflowError `dag_not_found`. */
  cancel(dagId: string): Promise<boolean> {
    return cancelDag(this.#core, dagId);
  }

  /**
   * Deletes every record of the DAG, whatever its status; handlers of it running now see their
   * signal abort (kind `canceled`) and their outcomes are dropped.
   * @throws EbindError `invalid_argument` for a malformed id (a wildcard would select other DAGs).
   */
  deleteDag(dagId: string): Promise<void> {
    return deleteDag(this.#core, dagId);
  }

  /**
   * DAGs newest first, filtered by status (case-insensitive), labels (all of them) and age, then
   * limited (reference §4.2 `dag ls`). Filters read the metas alone; `counts` adds each row's step
   * counts, blocked breakpoints and steps waiting on signals from one more pass over the bucket.
   */
  listDags(options?: ListDagsOptions): Promise<DagSummary[]> {
    return listDags(this.#core, options);
  }

  /**
   * The step counts (with blocked breakpoints and steps waiting on signals) of DAGs whose metas the
   * caller already has, e.g. from `listDags()` without counts, filtered further: one read of their
   * records (one pass over the bucket's step records beyond 8 DAGs), rows in the given order.
   */
  countDagSteps(metas: readonly DagMeta[]): Promise<Array<DagSummary & { readonly counts: StepCounts }>> {
    return countDagSteps(this.#core, metas);
  }

  /**
   * Every change to the workflow records (metas, steps, results, signals), decoded, in the order
   * written: by default the current state first (`onCaughtUp` marks its end), then changes as they
   * happen, until `signal` aborts. Undecodable records arrive as `invalid` changes, never as errors.
   * @throws EbindError `invalid_argument` for a malformed `dagId`.
   */
  watch(options?: WatchDagsOptions): AsyncIterable<DagChange> {
    return watchDagChanges(this.#core, options);
  }

  /**
   * A step's record with its revision, or null when the DAG has no such step.
   * @throws EbindError `invalid_argument` for a malformed DAG or step id.
   */
  getStep(dagId: string, stepId: string): Promise<StepRecordAt | null> {
    return stepRecord(this.#core, dagId, stepId);
  }

  /**
   * A step's stored result bytes exactly as written (JSON; empty for an error-only Go handler), or
   * undefined when the step has none (not done, failed, skipped, canceled, or missing).
   * @throws EbindError `invalid_argument` for a malformed DAG or step id.
   */
  storedResult(dagId: string, stepId: string): Promise<Uint8Array | undefined> {
    return storedResult(this.#core, dagId, stepId);
  }
}
