/**
 * Starting ready steps (reference §3.11, §3.15.1), in two phases:
 * 1. each step is prepared: a required dependency that did not succeed skips it (the cascade, applied
 *    again here because the event that carried it may come later); otherwise its arguments and
 *    placement are resolved and its task built, and only then is it marked `running` by
 *    compare-and-set (refusing held and terminal steps, so a stale snapshot cannot start a canceled
 *    or paused step). A placement that cannot be resolved or a task the server cannot carry fails
 *    the step visibly (kinds `placement`, `payload_too_large`) instead of stranding it;
 * 2. the DAG's meta is read again: if it is no longer `running` (a pause or cancel landed meanwhile),
 *    the marks are undone (`fence.ts`); otherwise the tasks are published.
 *
 * A step's task carries `enqueued_at` = the record's `started_at` and message id
 * `<dag>:<step>:<DAG creation time>:<start time>`: racing schedulers publish one task per start, a
 * DAG deleted and re-created under the same id is not swallowed by the dedupe window (reference §8.3
 * item 6, fixed), and a step started again after a pause gets a task of its own while the start gate
 * drops the old one.
 * @module
 */
import { DLQ_HEADROOM_BYTES, taskPublishSubject } from "../../broker/topology.js";
import { encodeTask } from "../../task/codec.js";
import type { Task } from "../../task/envelope.js";
import { parseArgs } from "../model/codec.js";
import { WorkflowError } from "../model/errors.js";
import { stepTaskId } from "../model/keys.js";
import { finishTime, StepErrorKind, type DagEvent, type DagMeta, type StepRecord } from "../model/records.js";
import { hasOrDefaultRef, resolveArgs, skipMessage } from "../plan/index.js";
import { casStep } from "../store/cas.js";
import type { WorkflowCore } from "../store/core.js";
import { publishEvent } from "../store/events.js";
import type { Versioned } from "../store/store.js";
import { fenceStarted } from "./fence.js";

const utf8 = new TextEncoder();

/** What became of an attempt to start a step. */
export type StartOutcome = "published" | "skipped" | "failed" | "not-startable" | "fenced";

/** The message id of a step's task: one per step, DAG incarnation and start. */
export function stepMsgId(meta: DagMeta, record: StepRecord): string {
  return `${stepTaskId(meta.id, record.stepId)}:${meta.createdAt.getTime()}:${record.startedAt?.getTime() ?? 0}`;
}

/**
 * The start time of a new start of `record`: now, unless the clock says otherwise — then just after
 * the previous start (a step held by a pause, or reopened by a requeue, keeps it) or at its
 * creation, whichever is later — so every start of a step is later than the one before and never
 * before the step existed (the clocks of the submitter and of schedulers may disagree).
 */
export function nextStartTime(record: Pick<StepRecord, "startedAt" | "addedAt">): Date {
  const previous = record.startedAt === undefined ? Number.NEGATIVE_INFINITY : record.startedAt.getTime() + 1;
  return new Date(Math.max(Date.now(), previous, record.addedAt.getTime()));
}

/**
 * CAS the step from pending to running (re-reading after a conflict, up to 5 times). A step that is
 * already running counts as started (its task is published again; the message id collapses the
 * duplicate); a held or terminal step is not startable.
 */
async function markRunning(core: WorkflowCore, record: StepRecord, revision: number): Promise<Versioned<StepRecord> | undefined> {
  const running = await casStep(core.store, record.dagId, record.stepId, { value: record, revision }, (r) => {
    if (r.status === "running") return "keep";
    if (r.status !== "pending" || r.held) return undefined;
    return { ...r, status: "running", attempt: 0, startedAt: nextStartTime(r) };
  });
  if (running) core.recentStarts.remember(running); // for this process's worker, if the task lands here
  return running;
}

/** What resolving a step's arguments and placement needs to know about the rest of the DAG. */
export interface ArgContext {
  step(stepId: string): StepRecord | undefined;
  signal(name: string): string | undefined;
  /**
   * A done upstream's raw result when it is known without a read (carried by its `completed` event);
   * undefined, or absent: it is read from the store.
   */
  knownResult?(stepId: string): string | undefined;
}

/** Reads a done step's raw result (undefined when not readable yet). */
export type ResultReader = (stepId: string) => Promise<string | undefined>;

/**
 * Resolves a step's arguments: refs become upstream results (known from the context, else read
 * with `read`), signal refs the delivered payloads. A done upstream whose result cannot be read yet
 * is an error (the event is retried) rather than a silent `null`.
 */
export async function resolveStepArgs(
  core: WorkflowCore,
  record: StepRecord,
  ctx: ArgContext,
  read: ResultReader = (id) => core.store.getResult(record.dagId, id),
): Promise<{ skip: true } | { skip: false; payload: string }> {
  const done = new Set(parseArgs(record.argsJson).flatMap((slot) => (slot.kind === "ref" && ctx.step(slot.ref.stepId)?.status === "done" ? [slot.ref.stepId] : [])));
  const upstreams = [...done];
  const raws = await Promise.all(
    upstreams.map((id) => {
      const known = ctx.knownResult?.(id);
      return known !== undefined ? Promise.resolve(known) : read(id);
    }),
  );
  const results = new Map<string, string>();
  upstreams.forEach((id, i) => {
    const raw = raws[i];
    if (raw === undefined) throw new WorkflowError("invalid", `workflow: step "${record.stepId}": upstream "${id}" is done but its result is not readable yet`);
    results.set(id, raw);
  });
  return resolveArgs(record.argsJson, { status: (id) => ctx.step(id)?.status, result: (id) => results.get(id), signal: (name) => ctx.signal(name) });
}

/** A step marked running whose task is ready to publish. */
interface Prepared {
  readonly running: Versioned<StepRecord>;
  readonly payload: string;
  readonly target: string | undefined;
}

/** The first required dependency that did not succeed (and is not read through `or_default`), if any. */
function failedRequiredDep(record: StepRecord, ctx: ArgContext): string | undefined {
  return record.deps.find((dep) => {
    const status = ctx.step(dep)?.status;
    return (status === "failed" || status === "skipped" || status === "canceled") && !hasOrDefaultRef(record, dep);
  });
}

/**
 * Phase 1 for one step (see the module comment). Everything that can fail is worked out before the
 * record changes, so a failure leaves the step pending for the next event or sweep instead of
 * running with no task behind it (reference §8.3 item 10).
 */
async function prepareStep(core: WorkflowCore, meta: DagMeta, record: StepRecord, revision: number, ctx: ArgContext, read: ResultReader): Promise<Prepared | StartOutcome> {
  const cause = failedRequiredDep(record, ctx);
  const resolved = cause !== undefined ? ({ skip: true } as const) : await resolveStepArgs(core, record, ctx, read);
  if (resolved.skip) {
    const dep = cause ?? record.deps.find((d) => ctx.step(d)?.status !== "done") ?? "";
    return (await settlePending(core, record, revision, { status: "skipped", errorMessage: skipMessage(ctx.step(dep), dep) })) ? "skipped" : "not-startable";
  }
  let target: string | undefined;
  try {
    target = resolveTarget(record, ctx);
  } catch (err) {
    const message = (err as Error).message;
    return (await settlePending(core, record, revision, { status: "failed", errorKind: StepErrorKind.Placement, errorMessage: message })) ? "failed" : "not-startable";
  }
  const bytes = utf8.encode(encodeTask(stepTask(meta, record, resolved.payload, target))).length;
  const limit = core.broker.maxPayloadBytes - DLQ_HEADROOM_BYTES;
  if (bytes > limit) {
    // Its upstream results make a task the server cannot carry: fail the step for good (its
    // dependents cascade, awaiters get step_failed) rather than leave it running with no task.
    const message = `the task would be ${bytes} bytes, more than the ${limit} bytes a task may use; pass large results by reference (a key, a path) instead`;
    return (await settlePending(core, record, revision, { status: "failed", errorKind: StepErrorKind.PayloadTooLarge, errorMessage: message })) ? "failed" : "not-startable";
  }
  const running = await markRunning(core, record, revision);
  if (!running) return "not-startable";
  return { running, payload: resolved.payload, target };
}

/**
 * Starts several ready steps at once (they touch different records and publish under different
 * message ids): phase 1 for each, one read of the meta, then phase 2.
 * @param steps the ready steps with the revisions they were read at.
 * @returns how many tasks were published.
 * @throws the first error, once every start has settled (what the others did stands; a step left
 *   pending is picked up by the event's retry or the sweep).
 */
export async function startSteps(core: WorkflowCore, meta: DagMeta, steps: ReadonlyArray<Versioned<StepRecord>>, ctx: ArgContext): Promise<number> {
  if (steps.length === 0) return 0;
  // The steps started together share one read per upstream result (a result is written once and
  // never changed while its step is done): the n steps of a fan-out read their root's result once.
  const reads = new Map<string, Promise<string | undefined>>();
  const read: ResultReader = (id) => {
    let pending = reads.get(id);
    if (pending === undefined) {
      pending = core.store.getResult(meta.id, id);
      pending.catch(() => reads.delete(id)); // a failed read is not shared: the next step reads again
      reads.set(id, pending);
    }
    return pending;
  };
  const settled = await Promise.allSettled(steps.map((s) => prepareStep(core, meta, s.value, s.revision, ctx, read)));
  const prepared: Prepared[] = [];
  let failure: Error | undefined;
  for (const outcome of settled) {
    if (outcome.status === "rejected") failure ??= asError(outcome.reason);
    else if (typeof outcome.value === "object") prepared.push(outcome.value);
  }
  let published = 0;
  if (prepared.length > 0) {
    // The fence (fence.ts): a pause or cancel whose meta write this read sees may have missed the
    // marks just made; undo them. A DAG deleted (or re-created) meanwhile gets no tasks.
    const fresh = await core.store.getMeta(meta.id);
    const current = fresh !== null && fresh.value.createdAt.getTime() === meta.createdAt.getTime() ? fresh.value.status : undefined;
    if (current !== "running") {
      await fenceStarted(core, current, prepared.map((p) => p.running));
    } else {
      const results = await Promise.allSettled(prepared.map((p) => publishStepTask(core, meta, p.running.value, p.payload, p.target, stepMsgId(meta, p.running.value))));
      for (const r of results) {
        if (r.status === "rejected") failure ??= asError(r.reason);
        else published++;
      }
    }
  }
  if (failure !== undefined) throw failure;
  return published;
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/**
 * CAS a pending step to a terminal status without running it (skipped by a cascade, or failed for
 * a reason found before it could start), then publish its `completed` event so its dependents
 * advance and awaiters learn of it.
 */
export async function settlePending(
  core: WorkflowCore,
  record: StepRecord,
  revision: number,
  change: Pick<StepRecord, "status"> & Partial<Pick<StepRecord, "errorKind" | "errorMessage">>,
): Promise<boolean> {
  const written = await casStep(core.store, record.dagId, record.stepId, { value: record, revision }, (r) =>
    r.status !== "pending" || r.held ? undefined : { ...r, ...change, finishedAt: finishTime(r) },
  );
  if (!written) return false;
  const event: DagEvent = {
    kind: "completed",
    dagId: record.dagId,
    stepId: record.stepId,
    status: change.status,
    errorKind: change.errorKind,
    errorMessage: change.errorMessage,
    stepAddedAt: record.addedAt,
    stepStartedAt: record.startedAt,
  };
  await publishEvent(core.broker, event);
  return true;
}

/**
 * The target of a step's task (reference §3.23): `direct` → its claim; `colocate_with` (and a
 * dynamic step's `colocate_here`) → the concrete worker that ran the other step; `follow_target_of`
 * → the other step's target, resolved now (claims may have moved).
 * @throws WorkflowError `invalid` when the other step is unknown, has not run, has no placement to
 *   follow, or the chain loops.
 */
export function resolveTarget(record: StepRecord, ctx: ArgContext, seen: ReadonlySet<string> = new Set()): string | undefined {
  const placement = record.placement;
  if (!placement?.mode) return placement?.target || undefined;
  const fail = (why: string): never => {
    throw new WorkflowError("invalid", `workflow: step "${record.stepId}": placement ${placement.mode}: ${why}`);
  };
  switch (placement.mode) {
    case "direct":
      return placement.target || undefined;
    case "colocate_with":
    case "colocate_here": {
      const other = placement.stepId ? ctx.step(placement.stepId) : undefined;
      if (!other) return fail(`unknown step "${placement.stepId ?? ""}"`);
      if (!other.workerId) return fail(`step "${other.stepId}" has no worker: it has not run (status ${other.status})`);
      return `worker:${other.workerId}`;
    }
    case "follow_target_of": {
      const other = placement.stepId ? ctx.step(placement.stepId) : undefined;
      if (!other) return fail(`unknown step "${placement.stepId ?? ""}"`);
      if (seen.has(other.stepId)) return fail("the placements form a loop");
      if (!other.placement) return fail(`step "${other.stepId}" has no placement to follow`);
      return resolveTarget(other, ctx, new Set([...seen, record.stepId]));
    }
    default: {
      const unknown: never = placement.mode;
      return fail(`unknown mode ${String(unknown)}`);
    }
  }
}

/**
 * Publishes a step's task under `msgId`. With a telemetry, its `publish` hook sees the task first
 * (`parent`: the DAG's trace context) and the trace context it returns replaces the DAG's in the
 * task; its scope ends with the publish's outcome.
 */
async function publishStepTask(core: WorkflowCore, meta: DagMeta, record: StepRecord, payload: string, target: string | undefined, msgId: string): Promise<void> {
  let task = stepTask(meta, record, payload, target);
  const subject = taskPublishSubject(task.name, task.target);
  const scope = core.telemetry?.publish({ kind: "step", task, subject, parent: meta.traceCtx });
  if (scope === undefined) {
    await core.broker.publish(subject, utf8.encode(encodeTask(task)), { msgId });
    return;
  }
  if (scope.traceCtx !== undefined) task = { ...task, traceCtx: scope.traceCtx };
  try {
    await core.broker.publish(subject, utf8.encode(encodeTask(task)), { msgId });
  } catch (err) {
    scope.end(err as Error);
    throw err;
  }
  scope.end();
}

/**
 * Publishes the task of a step already running again (the sweep's repair of a lost task), under a
 * fresh message id so the dedupe window, which still remembers the lost original, does not swallow it.
 */
export async function republishStepTask(core: WorkflowCore, meta: DagMeta, record: StepRecord, payload: string, target: string | undefined): Promise<void> {
  await publishStepTask(core, meta, record, payload, target, `${stepMsgId(meta, record)}:repair:${Date.now()}`);
}

/**
 * The task envelope of a step (reference §3.11): id `<dag>:<step>`, no reply subject, no deadline;
 * `enqueued_at` is the start time on the record, which the start gate compares to tell this start's
 * task from an older one; `trace_ctx` the DAG's (its meta's, issue 17), when it has one.
 */
export function stepTask(meta: DagMeta, record: StepRecord, payload: string, target: string | undefined): Task {
  return {
    id: stepTaskId(meta.id, record.stepId),
    name: record.fnName,
    payload,
    enqueuedAt: record.startedAt ?? new Date(),
    attempt: 0,
    dagId: meta.id,
    stepId: record.stepId,
    retryPolicy: record.policy,
    target,
    traceCtx: meta.traceCtx,
  };
}
