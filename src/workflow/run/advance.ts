/**
 * What a scheduler does with one DAG once it has loaded it — after an event, a signal timer, or in
 * the repair sweep (reference §3.15, with §8.3 items 10–11 fixed and issue 11's controls):
 * - `running`: expire timed-out signal waits, start what is ready, mark breakpoint stops and signal
 *   waits, finalise when every step is terminal;
 * - `pausing`: hold what has not started (steps added during the drain included), then move to
 *   `paused` — or to the final status when every step has finished;
 * - `paused`: finalise when every step is terminal, else nothing (zero work for paused DAGs).
 * A half-written DAG (its submit failed part-way, `plan/finalize.ts` `halfWritten`) is left alone.
 * The sweep also releases holds orphaned under a running meta, applies cascades an event missed,
 * and publishes again the task of a step marked running that no worker ever started.
 * @module
 */
import { stepFields } from "../model/log-fields.js";
import { isTerminal } from "../model/records.js";
import { halfWritten } from "../plan/index.js";
import { casStep } from "../store/cas.js";
import type { WorkflowCore } from "../store/core.js";
import type { LoadedDag } from "../store/store.js";
import { republishStepTask, resolveStepArgs, resolveTarget, type ArgContext } from "./enqueue.js";
import { fenceDag, settlePausing } from "./pausing.js";
import { DagProgress } from "./progress.js";

/** What advancing a DAG left behind for its scheduler. */
export interface Advanced {
  /** The DAG has finished (its cached graph can go). */
  readonly finished: boolean;
  /** The earliest time (ms since the epoch) a signal wait of the DAG times out, if any. */
  readonly signalDue?: number | undefined;
}

/** Moves a loaded, running or pausing DAG forward (the event and timer path). */
export async function advance(core: WorkflowCore, loaded: LoadedDag, progress = new DagProgress(core, loaded)): Promise<Advanced> {
  if (halfWritten(progress.state)) return { finished: false }; // a failed submit's remains: never run
  const status = progress.meta.status;
  if (status === "pausing") {
    await fenceDag(core, progress.meta.id);
    const after = await settlePausing(core, progress.meta.id);
    return { finished: after === "done" || after === "failed" };
  }
  if (status === "paused") return { finished: (await progress.finalize()) !== undefined };
  if (status !== "running") return { finished: true };
  await progress.expireSignalWaits();
  await progress.startReady();
  await progress.markBreakpoints();
  const signalDue = await progress.markSignalWaits();
  return { finished: (await progress.finalize()) !== undefined, signalDue };
}

/** Options of {@link sweepDag}. */
export interface SweepOptions {
  /** A step marked running that no worker started (attempt 0) for this long gets its task again. */
  readonly strandedAfterMs: number;
  /** A hold this old under a `running` meta is released (a pause or resume that died half-way). */
  readonly orphanedHoldMs: number;
}

/** The repair sweep of one DAG (see the module comment). */
export async function sweepDag(core: WorkflowCore, loaded: LoadedDag, options: SweepOptions): Promise<Advanced> {
  const progress = new DagProgress(core, loaded);
  if (halfWritten(progress.state)) {
    core.logger.warn({ dag_id: progress.meta.id }, "scheduler: a DAG whose submit failed half-way is left as it is (deleteDag removes it)");
    return { finished: false };
  }
  if (progress.meta.status === "running") {
    await releaseOrphanedHolds(core, progress, options.orphanedHoldMs);
    await progress.cascadeAll();
    await republishStranded(core, progress, options.strandedAfterMs);
  }
  return advance(core, loaded, progress);
}

async function releaseOrphanedHolds(core: WorkflowCore, progress: DagProgress, olderThanMs: number): Promise<void> {
  const now = Date.now();
  for (const step of [...progress.state.steps.values()]) {
    if (step.status !== "pending" || !step.held) continue;
    if (step.heldAt !== undefined && now - step.heldAt.getTime() < olderThanMs) continue;
    const written = await casStep(core.store, step.dagId, step.stepId, null, (r) =>
      r.status === "pending" && r.held ? { ...r, held: false, heldAt: undefined } : undefined,
    );
    if (written) {
      core.logger.warn(stepFields(written.value), "scheduler: released a hold left under a running DAG");
      progress.setStep(written.value, written.revision);
    }
  }
}

/** Publishes again the task of running steps no worker ever started, once they are old enough. */
async function republishStranded(core: WorkflowCore, progress: DagProgress, afterMs: number): Promise<void> {
  const now = Date.now();
  const ctx: ArgContext = { step: (id) => progress.state.steps.get(id), signal: (name) => progress.state.signals.get(name)?.payload };
  for (const record of progress.state.steps.values()) {
    if (record.status !== "running" || record.attempt > 0 || isTerminal(record.status)) continue;
    if (!record.startedAt || now - record.startedAt.getTime() < afterMs) continue;
    const resolved = await resolveStepArgs(core, record, ctx);
    if (resolved.skip) continue; // the cascade handles it
    core.logger.warn(stepFields(record), "scheduler: republishing a step whose task no worker started");
    await republishStepTask(core, progress.meta, record, resolved.payload, resolveTarget(record, ctx));
  }
}
