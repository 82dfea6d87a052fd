/**
 * Submitting a DAG (reference §3.10): validate the graph, persist the meta and one pending record
 * per step, then start the roots (steps without dependencies).
 * @module
 */
import type { DagBuilder } from "../build/builder.js";
import type { WorkflowCore } from "../store/core.js";
import { startSteps } from "../run/enqueue.js";
import { WorkflowError } from "../model/errors.js";
import { validateGraph } from "../plan/index.js";
import type { DagMeta, StepRecord } from "../model/records.js";
import { buildStepRecord } from "../build/step-records.js";

/** Step records written at once while submitting. */
const WRITE_CONCURRENCY = 32;

/**
 * Persists and starts `dag`.
 * @throws WorkflowError `invalid` (empty DAG, already submitted, a bad step), `cycle`, or
 *   `stale_revision` when a DAG with this id exists; nothing is persisted in those cases.
 */
export async function submitDag(core: WorkflowCore, dag: DagBuilder): Promise<DagMeta> {
  if (dag.submitted) throw new WorkflowError("invalid", `workflow: DAG ${dag.id} already submitted`);
  const specs = dag.steps().map((s) => s.spec());
  if (specs.length === 0) throw new WorkflowError("invalid", `workflow: DAG ${dag.id} has no steps`);
  const now = new Date();
  const records: StepRecord[] = [];
  for (const spec of specs) records.push(await buildStepRecord(spec, { dagId: dag.id, defaultPolicy: dag.defaultPolicy }, now));
  validateGraph(records.map((r) => ({ id: r.stepId, deps: r.deps, optionalDeps: r.optionalDeps })));
  dag.submitted = true;

  const meta: DagMeta = {
    id: dag.id,
    status: "running",
    createdAt: now,
    defaultPolicy: dag.defaultPolicy,
    labels: dag.labels.length > 0 ? dag.labels : undefined,
  };
  await core.store.createMeta(meta);
  const revisions = new Map<string, number>();
  for (let i = 0; i < records.length; i += WRITE_CONCURRENCY) {
    await Promise.all(
      records.slice(i, i + WRITE_CONCURRENCY).map(async (r) => revisions.set(r.stepId, await core.store.createStep(r))),
    );
  }
  const byId = new Map(records.map((r) => [r.stepId, r]));
  const ctx = { step: (id: string) => byId.get(id), signal: () => undefined };
  const roots = records.filter((r) => r.deps.length === 0 && r.optionalDeps.length === 0);
  await startSteps(core, meta, roots.map((r) => ({ value: r, revision: revisions.get(r.stepId)! })), ctx);
  return meta;
}
