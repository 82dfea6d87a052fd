/**
 * The worker side of workflows (reference §3.26, §1.3 `StepHook`): the start gate a step's task
 * passes before its handler runs, and the recording of the step's terminal outcome.
 *
 * The start gate (`onStepStart`) is where the fence of pause and cancel holds on a worker
 * (`run/fence.ts`): it writes the attempt on the step's running record by compare-and-set, and
 * refuses to start when the record is not running (canceled, held by a pause, settled, deleted) or
 * belongs to a later start of the step than the task (`enqueued_at` older than `started_at`). The
 * handler's abort is registered with the process's {@link CancelWatch} first, so a cancel landing
 * after the gate still reaches it.
 *
 * An outcome is persisted before the worker acks its task: result first (create-only, so a
 * duplicate run cannot replace what dependents used), then the status by compare-and-set, then the
 * `completed` event. An outcome for a step that is already terminal (canceled while it ran, settled
 * by another attempt) or whose DAG was deleted changes nothing and is reported `superseded`: the
 * worker then writes no DLQ entry for it (reference §8.3 item 13, fixed). A result written by an
 * attempt that lost to a cancel is deleted again.
 * @module
 */
import { taskFields } from "../../broker/logger.js";
import type { Task } from "../../task/envelope.js";
import { ErrKind, type TaskError } from "../../task/errors.js";
import type { StepHook, StepSettled, StepStart } from "../../worker/step-hook.js";
import { EVENT_RESULT_MAX_CHARS, finishTime, isTerminal, type StepRecord } from "../model/records.js";
import type { Versioned } from "../store/store.js";
import { casStep } from "../store/cas.js";
import type { WorkflowCore } from "../store/core.js";
import { publishEvent } from "../store/events.js";
import { cancelStep } from "../run/fence.js";
import { CancelWatch, canceledReason } from "./cancel-watch.js";

/** Default cap of a stored step error message, in bytes (reference §1.7.9). */
export const DEFAULT_MAX_STEP_ERROR_BYTES = 4096;

/**
 * Cuts `message` to `limit` UTF-8 bytes on a character boundary and appends `…`; limit 0 means 4096,
 * a negative limit stores no message (reference §3.26).
 */
export function truncateErrorMessage(message: string, limit: number): string {
  if (limit < 0) return "";
  const max = limit === 0 ? DEFAULT_MAX_STEP_ERROR_BYTES : limit;
  const bytes = Buffer.from(message, "utf8");
  if (bytes.length <= max) return message;
  let cut = max;
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--; // back to a character boundary
  return bytes.subarray(0, cut).toString("utf8") + "…";
}

/** Why the gate refuses a step's task, or undefined when it may run. */
function refusal(record: StepRecord, task: Task): string | undefined {
  if (record.status !== "running") return record.held ? "the step is held by a pause" : `the step is ${record.status}`;
  const started = record.startedAt?.getTime();
  if (started !== undefined && task.enqueuedAt.getTime() < started) return "the task belongs to an earlier start of the step";
  return undefined;
}

/** The workflow's {@link StepHook}, plus `close` for the watch it opens. Ad-hoc tasks pass through untouched. */
export function createStepHook(core: WorkflowCore): StepHook & { close(): void } {
  const cancels = new CancelWatch(core.store, core.logger);
  /**
   * The step record as the start gate wrote (or found) it, per task being run: the outcome's
   * compare-and-set starts from it instead of reading the record again (it re-reads on a conflict:
   * a cancel or pause that landed while the handler ran). Keyed by the worker's task object, so an
   * entry goes with its run.
   */
  const gated = new WeakMap<Task, Versioned<StepRecord>>();
  return {
    close: () => cancels.stop(),

    async onStepStart(task: Task, abort: (reason: TaskError) => void): Promise<StepStart> {
      const { dagId, stepId } = task;
      if (!dagId || !stepId) return { run: true, release: () => {} };
      await cancels.ready();
      const release = cancels.register(dagId, abort);
      try {
        const missing = `step ${JSON.stringify(stepId)} of DAG ${JSON.stringify(dagId)} does not exist (the DAG was never submitted, or was deleted)`;
        let why: string | undefined = missing;
        const started = core.recentStarts.take(dagId, stepId) ?? null; // a record this process just wrote saves a read
        const written = await casStep(core.store, dagId, stepId, started, (r) => {
          why = refusal(r, task);
          if (why !== undefined) return undefined;
          return r.attempt >= task.attempt ? "keep" : { ...r, attempt: task.attempt };
        });
        if (!written) {
          release();
          return { run: false, reason: why, unknown: why === missing };
        }
        gated.set(task, written);
        if (cancels.suspect(dagId)) {
          // The watch saw this DAG end lately, maybe before this handler was registered.
          const ended = await cancels.endedNow(dagId);
          if (ended) abort(canceledReason(dagId, ended));
        }
        return { run: true, release };
      } catch (err) {
        release();
        throw err;
      }
    },

    async onStepDone(task: Task, result: string | undefined): Promise<StepSettled | void> {
      const { dagId, stepId } = task;
      if (!dagId || !stepId) return;
      const known = gated.get(task);
      gated.delete(task);
      const before = known ?? (await core.store.getStep(dagId, stepId));
      if (!before) {
        core.logger.warn(taskFields(task), "workflow: outcome for a step that does not exist (deleted DAG?); dropped");
        return "superseded";
      }
      if (isTerminal(before.value.status) && before.value.status !== "done") return "superseded";
      // A handler that returned nothing stores `null`, so the step can be awaited and referenced.
      const raw = result ?? "null";
      const created = await core.store.putResult(dagId, stepId, raw);
      let wrote = false;
      const after = await casStep(
        core.store,
        dagId,
        stepId,
        before, // the record the gate wrote, or just read: no second read unless the CAS conflicts
        (r) => {
          wrote = !isTerminal(r.status);
          return wrote ? { ...r, status: "done", workerId: task.workerId, finishedAt: finishTime(r), errorKind: undefined, errorMessage: undefined } : "keep";
        },
        { pauseMs: 50 },
      );
      if (after?.value.status !== "done") {
        // Canceled (or deleted) while it ran: its late value is not the step's result.
        if (created) await core.store.deleteResult(dagId, stepId);
        return "superseded";
      }
      // A result created now for a step already done repairs a crash between the two writes.
      if (wrote || created) {
        // The result rides along when it is the one stored (this run created it) and small: the
        // scheduler then need not read it back to start the dependents.
        const carried = created && raw.length <= EVENT_RESULT_MAX_CHARS ? raw : undefined;
        await publishEvent(core.broker, { kind: "completed", dagId, stepId, status: "done", stepAddedAt: after.value.addedAt, stepStartedAt: after.value.startedAt, result: carried });
      }
      return wrote ? "recorded" : "superseded";
    },

    async onStepFailed(task: Task, error: TaskError): Promise<StepSettled | void> {
      const { dagId, stepId } = task;
      if (!dagId || !stepId) return;
      if (error.kind === ErrKind.Canceled && (await core.store.getMeta(dagId))?.value.status !== "running") {
        // Aborted because its DAG was canceled (perhaps before the cancel reached this step's
        // record): the cancel is the step's outcome, not a failure; nothing goes to the DLQ.
        await cancelStep(core, dagId, stepId, null);
        return "superseded";
      }
      const message = truncateErrorMessage(error.detail, core.maxStepErrorBytes);
      const known = gated.get(task) ?? null;
      gated.delete(task);
      let wrote = false;
      const written = await casStep(
        core.store,
        dagId,
        stepId,
        known, // the record the gate wrote (re-read on a conflict), else read now
        (r) => {
          wrote = !isTerminal(r.status);
          return wrote ? { ...r, status: "failed", errorKind: error.kind, errorMessage: message || undefined, workerId: task.workerId, finishedAt: finishTime(r) } : "keep";
        },
        { pauseMs: 50 },
      );
      if (written === undefined) return "unknown";
      if (!wrote) return "superseded";
      await publishEvent(core.broker, { kind: "completed", dagId, stepId, status: "failed", errorKind: error.kind, errorMessage: message || undefined, stepAddedAt: written.value.addedAt, stepStartedAt: written.value.startedAt });
      return "recorded";
    },
  };
}
