/**
 * Submitting a DAG (reference §3.10): validate the graph and measure every record and task against
 * the server's max payload, persist the meta and one pending record per step (all or nothing: a
 * failed write rolls back, issue 12), then start the roots that are ready. A root stopped at an armed before-breakpoint is
 * marked and announced (`bp_hit`) even with no scheduler running; a root waiting for a signal waits
 * (a signal delivered before submit, to a pinned id, satisfies it at once).
 * @module
 */
import type { DagBuilder } from "../build/builder.js";
import { EbindError } from "../../task/errors.js";
import { WorkflowError } from "../model/errors.js";
import { metaKey, stepKey } from "../model/keys.js";
import { STEP_INDEX_MAX, type DagMeta, type StepRecord } from "../model/records.js";
import { validateGraph } from "../plan/index.js";
import { buildStepRecord } from "../build/step-records.js";
import { DagProgress } from "../run/progress.js";
import type { WorkflowCore } from "../store/core.js";
import { publishEvent } from "../store/events.js";
import { checkSubmitSizes } from "../run/size-limits.js";

/** Options of a submit. */
export interface SubmitOptions {
  /**
   * Breakpoint labels armed for this run (reference `WithActiveBreakpoints`): steps declaring one of
   * them stop there (`breakBefore`/`breakAfter`). Labels no step declares are fine (dynamic steps
   * may carry them later). Non-empty strings; deduplicated.
   */
  readonly breakpoints?: readonly string[] | undefined;
}

/** Step records written at once while submitting. */
const WRITE_CONCURRENCY = 32;

function checkBreakpoints(labels: readonly unknown[] | undefined): string[] | undefined {
  if (labels === undefined) return undefined;
  if (!Array.isArray(labels)) throw new WorkflowError("invalid", "workflow: submit breakpoints must be an array of labels");
  const out: string[] = [];
  for (const label of labels) {
    if (typeof label !== "string" || label.length === 0) throw new WorkflowError("invalid", `workflow: submit breakpoints: label must be a non-empty string, got ${JSON.stringify(label) ?? String(label)}`);
    if (!out.includes(label)) out.push(label);
  }
  return out.length > 0 ? out : undefined;
}

/** Placements that must name a step with something to follow, checked before anything is written. */
function checkPlacements(records: readonly StepRecord[]): void {
  const byId = new Map(records.map((r) => [r.stepId, r]));
  for (const r of records) {
    if (r.placement?.mode !== "follow_target_of") continue;
    const other = byId.get(r.placement.stepId ?? "");
    if (other && !other.placement) {
      throw new WorkflowError("invalid", `workflow: step "${r.stepId}": followTargetOf("${other.stepId}"): that step has no placement to follow (give it onTarget, colocateWith or followTargetOf)`);
    }
  }
}

/**
 * Writes the step records (the meta is written). When a write fails, the records written so far and
 * the meta are deleted again, so the id is free; when that fails too, what is left is half-written
 * (fewer step records than the meta's `submitSteps`), which no scheduler advances, and the error
 * says how to remove it.
 * @returns the revision of each record.
 * @throws the write's error (the same class and code), its message extended when the roll-back failed.
 */
async function writeSteps(core: WorkflowCore, meta: DagMeta, records: readonly StepRecord[]): Promise<Map<string, number>> {
  const revisions = new Map<string, number>();
  try {
    for (let i = 0; i < records.length; i += WRITE_CONCURRENCY) {
      const batch = records.slice(i, i + WRITE_CONCURRENCY);
      const written = await Promise.allSettled(batch.map(async (r) => revisions.set(r.stepId, await core.store.createStep(r))));
      const failed = written.find((w) => w.status === "rejected");
      if (failed) throw failed.reason;
    }
    return revisions;
  } catch (err) {
    try {
      for (const stepId of revisions.keys()) await core.store.kv.delete(stepKey(meta.id, stepId));
      await core.store.kv.delete(metaKey(meta.id));
    } catch (rollback) {
      core.logger.error(
        { dag_id: meta.id, error: (err as Error).message, rollback_error: (rollback as Error).message },
        "workflow: a submit failed half-way and its roll-back failed too; the DAG is left half-written (no scheduler runs it)",
      );
      throw withMessage(
        err,
        `workflow: submit ${meta.id}: ${(err as Error).message}; the DAG is left half-written (${revisions.size} of ${records.length} step records; ` +
          `the roll-back failed: ${(rollback as Error).message}): no scheduler runs it; workflow.deleteDag(${JSON.stringify(meta.id)}) removes it and frees the id`,
      );
    }
    throw err;
  }
}

/** `err` again with another message: the same class and code, `err` as the cause. */
function withMessage(err: unknown, message: string): Error {
  if (err instanceof WorkflowError) return new WorkflowError(err.code, message, { cause: err });
  if (err instanceof EbindError) return new EbindError(err.code, message, { cause: err });
  return new EbindError("unavailable", message, { cause: err });
}

/**
 * Persists and starts `dag`.
 * @throws WorkflowError `invalid` (empty DAG, already submitted, a bad step, option or argument),
 *   `cycle`, or `stale_revision` when a DAG with this id exists; EbindError `payload_too_large` when
 *   a record or a step's task would not fit the server's max payload (naming the step, its size and
 *   the limit, `run/size-limits.ts`). Nothing is persisted in those cases. A write failing half-way
 *   (the server unreachable) throws its error after the written records are deleted again; see
 *   `writeSteps` for when even that fails.
 */
export async function submitDag(core: WorkflowCore, dag: DagBuilder, options: SubmitOptions = {}): Promise<DagMeta> {
  if (dag.submitted) throw new WorkflowError("invalid", `workflow: DAG ${dag.id} already submitted`);
  const breakpoints = checkBreakpoints(options.breakpoints);
  const specs = dag.steps().map((s) => s.spec());
  if (specs.length === 0) throw new WorkflowError("invalid", `workflow: DAG ${dag.id} has no steps`);
  const now = new Date();
  const records: StepRecord[] = [];
  for (const spec of specs) records.push(await buildStepRecord(spec, { dagId: dag.id, defaultPolicy: dag.defaultPolicy }, now));
  validateGraph(records.map((r) => ({ id: r.stepId, deps: r.deps, optionalDeps: r.optionalDeps })));
  checkPlacements(records);
  const scope = core.telemetry?.dagSubmit({ dagId: dag.id, steps: records.length, labels: dag.labels });
  const meta: DagMeta = {
    id: dag.id,
    status: "running",
    createdAt: now,
    defaultPolicy: dag.defaultPolicy,
    activeBreakpoints: breakpoints,
    labels: dag.labels.length > 0 ? dag.labels : undefined,
    submitSteps: records.length,
    stepIds: records.length <= STEP_INDEX_MAX ? records.map((r) => r.stepId) : undefined,
    traceCtx: scope?.traceCtx,
  };
  try {
    await persistAndStart(core, dag, meta, records);
  } catch (err) {
    scope?.end(err as Error);
    throw err;
  }
  scope?.end();
  return meta;
}

/** {@link submitDag} once the DAG passed its checks: measure, write, start the roots. */
async function persistAndStart(core: WorkflowCore, dag: DagBuilder, meta: DagMeta, records: StepRecord[]): Promise<void> {
  checkSubmitSizes(core.broker.maxPayloadBytes, meta, records);
  dag.submitted = true;

  let metaRevision: number;
  let revisions: Map<string, number>;
  try {
    metaRevision = await core.store.createMeta(meta);
    revisions = await writeSteps(core, meta, records);
  } catch (err) {
    dag.submitted = false; // nothing of it stands (or what stands never runs): it may be submitted again
    throw err;
  }
  // Signals delivered before submit (to a pinned id) count; listed only when a step uses signals.
  const signals = records.some((r) => r.waitSignals.length > 0) ? await core.store.listSignals(dag.id) : [];
  const progress = new DagProgress(core, {
    state: { meta, steps: new Map(records.map((r) => [r.stepId, r])), signals: new Map(signals.map((s) => [s.name, s])) },
    metaRevision,
    stepRevisions: revisions,
  });
  await progress.startReady();
  await progress.markBreakpoints();
  if ((await progress.markSignalWaits()) !== undefined) {
    // A root waits for a signal with a timeout: have a scheduler look at the DAG, so it arms the
    // timer (the sweep is the backstop).
    await publishEvent(core.broker, { kind: "resumed", dagId: meta.id, stepId: meta.id });
  }
}
