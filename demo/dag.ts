/**
 * Reading the demo's DAG back through the workflow API: whether it exists (resume) and which
 * directory it hashes, why it failed, and every chunk's result (`--json`).
 * @module
 */
import { WorkflowError, type DagInfo, type Workflow } from "../src/workflow/index.js";
import { DAG_LABEL, SCAN_STEP, type ChunkResult } from "./handlers.js";

/** The DAG id names a DAG that cannot be resumed as asked (not a demo DAG, another directory). */
export class DagMismatchError extends Error {}

/** The DAG ended without its report; the message names the failed steps. */
export class DagFailedError extends Error {}

/** The DAG, or undefined when there is none with this id. */
export async function findDag(workflow: Workflow, dagId: string): Promise<DagInfo | undefined> {
  try {
    return await workflow.dagInfo(dagId);
  } catch (err) {
    if (err instanceof WorkflowError && err.code === "dag_not_found") return undefined;
    throw err;
  }
}

/**
 * The directory an existing demo DAG hashes (its scan step's first argument).
 * @throws DagMismatchError when the DAG is not a demo DAG, or `given` is another directory.
 */
export function rootOf(info: DagInfo, given: string | undefined): string {
  const scan = info.steps.find((s) => s.stepId === SCAN_STEP);
  if (!scan || !info.meta.labels?.includes(DAG_LABEL)) throw new DagMismatchError(`DAG ${info.meta.id} exists and is not a demo DAG`);
  const [root] = JSON.parse(scan.argsJson) as [string];
  if (given !== undefined && given !== root) throw new DagMismatchError(`DAG ${info.meta.id} hashes ${root}, not ${given}`);
  return root;
}

/** Why awaiting a step of the DAG failed with `err`: the DAG's status and its failed steps with their errors. */
export async function dagFailure(workflow: Workflow, dagId: string, err: WorkflowError): Promise<DagFailedError> {
  const info = await workflow.dagInfo(dagId).catch(() => undefined);
  const failed = (info?.steps ?? []).filter((s) => s.status === "failed");
  const lines = failed.slice(0, 5).map((s) => `\n  step ${s.stepId}: ${s.errorKind ?? "?"}: ${s.errorMessage ?? ""}`);
  if (failed.length > 0) lines.push("\n  (their tasks are in the dead-letter queue)");
  return new DagFailedError(`DAG ${dagId} ${info?.meta.status ?? "?"}: ${err.message}${lines.join("")}`);
}

/** Every file's result and failure, read back from the hash steps, sorted by path. */
export async function readChunks(workflow: Workflow, dagId: string, chunkIds: readonly string[]): Promise<ChunkResult> {
  const all: ChunkResult = { files: [], failures: [] };
  for (const id of chunkIds) {
    const chunk = await workflow.awaitById<ChunkResult>(dagId, id, { timeoutMs: 60_000 });
    all.files.push(...chunk.files);
    all.failures.push(...chunk.failures);
  }
  const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  all.files.sort(byPath);
  all.failures.sort(byPath);
  return all;
}
