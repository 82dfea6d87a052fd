/**
 * The fence that pause and cancel put around a DAG (issue 11; reference §3.17–3.18, tightened):
 * once `pause()` or `cancel()` has returned, no step of the DAG starts that had not started.
 *
 * A step has started when a worker's start gate has written its attempt (≥ 1) on the running record
 * (`steps/gate.ts`). Everything before that is undone by compare-and-set on the step record:
 * - pause holds a pending step (`held`), and turns a step that is `running` but not yet started
 *   (attempt 0: marked running, its task on its way) back into a held pending step. Its start time
 *   is kept, so the next start gets a later one and its task a new message id; the task already
 *   published for the old start is dropped by the gate (its `enqueued_at` is older).
 * - cancel turns every step that is not terminal into `canceled`, running ones included (their
 *   handlers' signals abort; see `steps/cancel-watch.ts`).
 * Whoever marks steps running re-reads the DAG's meta afterwards and undoes its own marks when the
 * meta is no longer `running` (`enqueue.ts`): with the fence pass of pause and cancel this covers
 * both orders of a start racing the control. No I/O besides the store.
 * @module
 */
import { ErrKind } from "../../task/errors.js";
import { finishTime, isTerminal, type StepRecord } from "../model/records.js";
import { casStep } from "../store/cas.js";
import type { WorkflowCore } from "../store/core.js";
import type { Versioned } from "../store/store.js";

/** What holding a step did: `held` (changed now), `kept` (already held), `in-flight` (started: left running), `settled` (terminal or gone). */
export type HoldResult = "held" | "kept" | "in-flight" | "settled";

/** Whether a running step's handler has not been started by any worker yet. */
export function notStarted(record: StepRecord): boolean {
  return record.status === "running" && record.attempt === 0;
}

/**
 * Holds one step for a pause (see the module comment).
 * @param start the record and revision in hand, or null to read it.
 */
export async function holdStep(core: WorkflowCore, dagId: string, stepId: string, start: Versioned<StepRecord> | null): Promise<HoldResult> {
  let result: HoldResult = "settled";
  await casStep(core.store, dagId, stepId, start, (r) => {
    if (isTerminal(r.status)) return (result = "settled"), undefined;
    if (r.status === "running" && !notStarted(r)) return (result = "in-flight"), undefined;
    if (r.status === "pending" && r.held) return (result = "kept"), undefined;
    result = "held";
    // A signal wait's clock stops with the pause: it starts again once the step waits, unheld.
    return { ...r, status: "pending", held: true, heldAt: new Date(), signalWaitSince: undefined };
  });
  return result;
}

/**
 * Cancels one step: pending and running steps become `canceled`; a running one records kind
 * `canceled` (its handler is told through its signal).
 * @returns whether this call wrote the record.
 */
export async function cancelStep(core: WorkflowCore, dagId: string, stepId: string, start: Versioned<StepRecord> | null): Promise<boolean> {
  const written = await casStep(core.store, dagId, stepId, start, (r) => {
    if (isTerminal(r.status)) return undefined;
    const ran = r.status === "running" && !notStarted(r);
    return {
      ...r,
      status: "canceled",
      held: false,
      heldAt: undefined,
      finishedAt: finishTime(r),
      errorKind: ran ? ErrKind.Canceled : r.errorKind,
      errorMessage: ran ? "the DAG was canceled while the step ran" : r.errorMessage,
    };
  });
  return written !== undefined;
}

/**
 * Applies the fence to steps this process just marked running, when it found the DAG's meta no
 * longer `running` afterwards: canceled → cancel them; pausing or paused → hold them; gone or
 * re-created → nothing (a deleted DAG's tasks are dropped by the gate).
 */
export async function fenceStarted(core: WorkflowCore, status: string | undefined, steps: ReadonlyArray<Versioned<StepRecord>>): Promise<void> {
  if (status !== "canceled" && status !== "pausing" && status !== "paused") return;
  await Promise.all(
    steps.map((s) =>
      status === "canceled" ? cancelStep(core, s.value.dagId, s.value.stepId, s) : holdStep(core, s.value.dagId, s.value.stepId, s),
    ),
  );
}
