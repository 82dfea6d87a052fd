/**
 * Submitting a DAG (reference §3.10): validate the graph, persist the meta and one pending record
 * per step, then start the roots that are ready. A root stopped at an armed before-breakpoint is
 * marked and announced (`bp_hit`) even with no scheduler running; a root waiting for a signal waits
 * (a signal delivered before submit, to a pinned id, satisfies it at once).
 * @module
 */
import type { DagBuilder } from "../build/builder.js";
import { WorkflowError } from "../model/errors.js";
import type { DagMeta, StepRecord } from "../model/records.js";
import { validateGraph } from "../plan/index.js";
import { buildStepRecord } from "../build/step-records.js";
import { DagProgress } from "../run/progress.js";
import type { WorkflowCore } from "../store/core.js";
import { publishEvent } from "../store/events.js";

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
 * Persists and starts `dag`.
 * @throws WorkflowError `invalid` (empty DAG, already submitted, a bad step, option or argument),
 *   `cycle`, or `stale_revision` when a DAG with this id exists; nothing is persisted in those cases.
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
  dag.submitted = true;

  const meta: DagMeta = {
    id: dag.id,
    status: "running",
    createdAt: now,
    defaultPolicy: dag.defaultPolicy,
    activeBreakpoints: breakpoints,
    labels: dag.labels.length > 0 ? dag.labels : undefined,
  };
  const metaRevision = await core.store.createMeta(meta);
  const revisions = new Map<string, number>();
  for (let i = 0; i < records.length; i += WRITE_CONCURRENCY) {
    await Promise.all(
      records.slice(i, i + WRITE_CONCURRENCY).map(async (r) => revisions.set(r.stepId, await core.store.createStep(r))),
    );
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
  return meta;
}
