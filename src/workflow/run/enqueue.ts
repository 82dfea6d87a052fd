/**
 * Moving a ready step to `running` and publishing its task (reference §3.11, §3.15.1): a CAS on the
 * step record first (refusing held and terminal steps, so a stale snapshot cannot run a canceled
 * step), then the arguments are resolved from upstream results and the task is published with
 * message id `<dag>:<step>:<DAG creation time>`, so racing schedulers store it once while a DAG
 * deleted and re-created under the same id is not swallowed by the dedupe window (reference §8.3
 * item 6, fixed).
 * @module
 */
import { DLQ_HEADROOM_BYTES, taskPublishSubject } from "../../broker/topology.js";
import { encodeTask } from "../../task/codec.js";
import type { Task } from "../../task/envelope.js";
import { parseArgs } from "../model/codec.js";
import type { WorkflowCore } from "../store/core.js";
import { casStep } from "../store/cas.js";
import { WorkflowError } from "../model/errors.js";
import { publishEvent } from "../store/events.js";
import { stepTaskId } from "../model/keys.js";
import { hasOrDefaultRef, resolveArgs } from "../plan/index.js";
import type { DagEvent, DagMeta, StepRecord } from "../model/records.js";
import { isTerminal } from "../model/records.js";
import type { Versioned } from "../store/store.js";

const utf8 = new TextEncoder();

/** What became of an attempt to start a step. */
export type StartOutcome = "published" | "skipped" | "failed" | "not-startable";

/** The message id of a step's task: stable per step and per DAG incarnation. */
export function stepMsgId(meta: DagMeta, stepId: string): string {
  return `${stepTaskId(meta.id, stepId)}:${meta.createdAt.getTime()}`;
}

/**
 * CAS the step from pending to running (re-reading after a conflict, up to 5 times). A step that is
 * already running counts as started (its task is published again; the message id collapses the
 * duplicate); a held or terminal step is not startable.
 * @returns the record as running and its revision, or undefined when not startable.
 */
async function markRunning(core: WorkflowCore, record: StepRecord, revision: number): Promise<{ record: StepRecord; revision: number } | undefined> {
  const running = await casStep(core.store, record.dagId, record.stepId, { value: record, revision }, (r) => {
    if (r.status === "running") return "keep";
    if (r.status !== "pending" || r.held) return undefined;
    return { ...r, status: "running", startedAt: r.startedAt ?? new Date() };
  });
  if (running) core.recentStarts.remember(running); // for this process's worker, if the task lands here
  return running && { record: running.value, revision: running.revision };
}

/** What resolving a step's arguments and placement needs to know about the rest of the DAG. */
export interface ArgContext {
  step(stepId: string): StepRecord | undefined;
  signal(name: string): string | undefined;
}

/**
 * Resolves a step's arguments: refs become upstream results (read now), signal refs the delivered
 * payloads. A done upstream whose result cannot be read yet is an error (the event is retried)
 * rather than a silent `null`.
 */
export async function resolveStepArgs(core: WorkflowCore, record: StepRecord, ctx: ArgContext): Promise<{ skip: true } | { skip: false; payload: string }> {
  const done = new Set(parseArgs(record.argsJson).flatMap((slot) => (slot.kind === "ref" && ctx.step(slot.ref.stepId)?.status === "done" ? [slot.ref.stepId] : [])));
  const upstreams = [...done];
  const raws = await Promise.all(upstreams.map((id) => core.store.getResult(record.dagId, id)));
  const results = new Map<string, string>();
  upstreams.forEach((id, i) => {
    const raw = raws[i];
    if (raw === undefined) throw new WorkflowError("invalid", `workflow: step "${record.stepId}": upstream "${id}" is done but its result is not readable yet`);
    results.set(id, raw);
  });
  return resolveArgs(record.argsJson, { status: (id) => ctx.step(id)?.status, result: (id) => results.get(id), signal: (name) => ctx.signal(name) });
}

/**
 * Starts one ready step: CAS to running, resolve arguments, publish the task — or, when a required
 * upstream did not succeed, persist it as skipped and announce that, so its dependents advance.
 */
export async function startStep(core: WorkflowCore, meta: DagMeta, record: StepRecord, revision: number, ctx: ArgContext): Promise<StartOutcome> {
  // A required dependency that did not succeed skips the step, whether it feeds an argument or is
  // an ordering (after / the dynamic parent); only an `or_default` ref to it lets the step run. This
  // is the cascade, applied again here because the event that carried it may be handled later.
  const cascaded = record.deps.some((dep) => {
    const status = ctx.step(dep)?.status;
    return (status === "failed" || status === "skipped" || status === "canceled") && !hasOrDefaultRef(record, dep);
  });
  // Everything that can fail is worked out before the record changes, so a failure leaves the step
  // pending for the next event or sweep instead of running with no task behind it (§8.3 item 10).
  const resolved = cascaded ? ({ skip: true } as const) : await resolveStepArgs(core, record, ctx);
  if (resolved.skip) return (await markSkipped(core, record, revision)) ? "skipped" : "not-startable";
  const target = resolveTarget(record, ctx);
  const task = stepTask(meta, record, resolved.payload, target);
  const bytes = utf8.encode(encodeTask(task)).length;
  const limit = core.broker.maxPayloadBytes - DLQ_HEADROOM_BYTES;
  if (bytes > limit) {
    // Its upstream results make a task the server cannot carry: fail the step for good (its
    // dependents cascade, awaiters get step_failed) rather than leave it running with no task.
    const message = `the task would be ${bytes} bytes, more than the ${limit} bytes a task may use; pass large results by reference (a key, a path) instead`;
    return (await markFailed(core, record, revision, "payload_too_large", message)) ? "failed" : "not-startable";
  }
  const running = await markRunning(core, record, revision);
  if (!running) return "not-startable";
  await core.broker.publish(taskPublishSubject(task.name, task.target), utf8.encode(encodeTask(task)), { msgId: stepMsgId(meta, record.stepId) });
  return "published";
}

/**
 * Starts several ready steps at once, {@link startStep} each (they touch different records and
 * publish under different message ids).
 * @param steps the ready steps with the revisions they were read at.
 * @returns how many tasks were published.
 * @throws the first error, once every start has settled (what the others did stands; a step left
 *   pending is picked up by the event's retry or the sweep).
 */
export async function startSteps(core: WorkflowCore, meta: DagMeta, steps: ReadonlyArray<Versioned<StepRecord>>, ctx: ArgContext): Promise<number> {
  const settled = await Promise.allSettled(steps.map((s) => startStep(core, meta, s.value, s.revision, ctx)));
  let published = 0;
  for (const outcome of settled) {
    if (outcome.status === "rejected") throw outcome.reason;
    if (outcome.value === "published") published++;
  }
  return published;
}

/** CAS a pending step to failed with `kind` and `message`, and announce it. */
async function markFailed(core: WorkflowCore, record: StepRecord, revision: number, kind: string, message: string): Promise<boolean> {
  return settlePending(core, record, revision, { status: "failed", errorKind: kind, errorMessage: message }, { status: "failed", errorKind: kind, errorMessage: message });
}

/** CAS a pending step to skipped and announce it, so its own dependents advance. */
function markSkipped(core: WorkflowCore, record: StepRecord, revision: number): Promise<boolean> {
  return settlePending(core, record, revision, { status: "skipped" }, { status: "skipped" });
}

/** CAS a pending step to a terminal status without running it, then publish its `completed` event. */
async function settlePending(
  core: WorkflowCore,
  record: StepRecord,
  revision: number,
  change: Pick<StepRecord, "status"> & Partial<Pick<StepRecord, "errorKind" | "errorMessage">>,
  event: Pick<DagEvent, "status" | "errorKind" | "errorMessage">,
): Promise<boolean> {
  const written = await casStep(core.store, record.dagId, record.stepId, { value: record, revision }, (r) =>
    r.status !== "pending" || r.held ? undefined : { ...r, ...change, finishedAt: new Date() },
  );
  if (!written) return false;
  await publishEvent(core.broker, { kind: "completed", dagId: record.dagId, stepId: record.stepId, ...event });
  return true;
}

/**
 * The target of a step's task (reference §3.23): `direct` → its claim; `colocate_with` → the
 * concrete worker that ran the other step; `follow_target_of` → the other step's target, resolved
 * now (claims may have moved).
 * @throws WorkflowError `invalid` when the other step is unknown, has not run, or the chain loops.
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
      if (!other.workerId) return fail(`step "${other.stepId}" has no worker yet`);
      return `worker:${other.workerId}`;
    }
    case "follow_target_of": {
      const other = placement.stepId ? ctx.step(placement.stepId) : undefined;
      if (!other) return fail(`unknown step "${placement.stepId ?? ""}"`);
      if (seen.has(other.stepId)) return fail("the placements form a loop");
      return resolveTarget(other, ctx, new Set([...seen, record.stepId]));
    }
    default: {
      const unknown: never = placement.mode;
      return fail(`unknown mode ${String(unknown)}`);
    }
  }
}

/**
 * Publishes the task of a step already running again (the sweep's repair of a lost task), under a
 * fresh message id so the dedupe window, which still remembers the lost original, does not swallow it.
 */
export async function republishStepTask(core: WorkflowCore, meta: DagMeta, record: StepRecord, payload: string, target: string | undefined): Promise<void> {
  const task = stepTask(meta, record, payload, target);
  const msgId = `${stepMsgId(meta, record.stepId)}:repair:${Date.now()}`;
  await core.broker.publish(taskPublishSubject(task.name, task.target), utf8.encode(encodeTask(task)), { msgId });
}

/** The task envelope of a step (reference §3.11): id `<dag>:<step>`, no reply subject, no deadline. */
function stepTask(meta: DagMeta, record: StepRecord, payload: string, target: string | undefined): Task {
  return {
    id: stepTaskId(meta.id, record.stepId),
    name: record.fnName,
    payload,
    enqueuedAt: new Date(),
    attempt: 0,
    dagId: meta.id,
    stepId: record.stepId,
    retryPolicy: record.policy,
    target,
  };
}

/** Whether a step record is terminal. */
export function terminalRecord(record: StepRecord): boolean {
  return isTerminal(record.status);
}
