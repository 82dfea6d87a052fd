/**
 * Operating the dead-letter queue (reference §1.5, §3 DLQ, §4.2 `dlq …`): list, show one, requeue
 * and purge. Entries are stream messages of `EBIND_DLQ`, addressed by sequence number.
 * @module
 */
import type { Broker, PublishAck, StoredMessage } from "../broker/port.js";
import { resolveLogger, type Logger } from "../broker/logger.js";
import type { Telemetry } from "../broker/telemetry.js";
import { safeTelemetry } from "../broker/telemetry-guard.js";
import { DLQ_STREAM, taskPublishSubject } from "../broker/topology.js";
import { decodeDlqEntry, decodeTask, encodeTask } from "../task/codec.js";
import type { DlqEntry, Task } from "../task/envelope.js";
import { EbindError } from "../task/errors.js";

/** One DLQ message: its sequence and subject, and the entry, or why it could not be decoded. */
export interface DeadLetter {
  readonly seq: number;
  readonly subject: string;
  readonly storedAt: Date;
  /** The decoded entry; undefined when the message is not a valid entry (see {@link decodeError}). */
  readonly entry: DlqEntry | undefined;
  readonly decodeError: string | undefined;
}

/** The result of {@link requeueDeadLetter}. */
export interface Requeued {
  readonly seq: number;
  readonly taskId: string;
  readonly name: string;
  /** The sequence of the republished task in `EBIND_TASKS`. */
  readonly taskSeq: number;
}

const utf8 = new TextEncoder();

function toDeadLetter(msg: StoredMessage): DeadLetter {
  try {
    return { seq: msg.seq, subject: msg.subject, storedAt: msg.time, entry: decodeDlqEntry(msg.data), decodeError: undefined };
  } catch (err) {
    return { seq: msg.seq, subject: msg.subject, storedAt: msg.time, entry: undefined, decodeError: (err as Error).message };
  }
}

function validSeq(seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new EbindError("invalid_argument", `dlq: seq must be a positive integer, got ${String(seq)}`);
}

/** Options of {@link listDeadLetters}. */
export interface ListOptions {
  /** At most this many entries; 0 = all. @default 50 */
  readonly limit?: number | undefined;
  /** Only entries with a sequence greater than this (e.g. the DLQ's last sequence before a run). @default 0 */
  readonly afterSeq?: number | undefined;
}

/**
 * The newest entries first. One read per entry: fine for operators, not for a hot path.
 * @throws EbindError `not_found` when the DLQ stream does not exist; `invalid_argument` for bad options.
 */
export async function listDeadLetters(broker: Broker, options: ListOptions = {}): Promise<DeadLetter[]> {
  const limit = options.limit ?? 50;
  const afterSeq = options.afterSeq ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new EbindError("invalid_argument", `dlq: limit must be an integer ≥ 0, got ${String(limit)}`);
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new EbindError("invalid_argument", `dlq: afterSeq must be an integer ≥ 0, got ${String(afterSeq)}`);
  const state = await broker.streamState(DLQ_STREAM);
  if (!state) throw new EbindError("not_found", `dlq: stream "${DLQ_STREAM}" missing (call ensureStreams first)`);
  const out: DeadLetter[] = [];
  if (state.messages === 0) return out;
  const lowest = Math.max(state.firstSeq, afterSeq + 1);
  for (let seq = state.lastSeq; seq >= lowest && (limit === 0 || out.length < limit); seq--) {
    const msg = await broker.getMessage(DLQ_STREAM, seq);
    if (msg) out.push(toDeadLetter(msg));
  }
  return out;
}

/**
 * The entry at `seq`.
 * @throws EbindError `not_found` ("dlq: entry not found") when there is none.
 */
export async function getDeadLetter(broker: Broker, seq: number): Promise<DeadLetter> {
  validSeq(seq);
  const msg = await broker.getMessage(DLQ_STREAM, seq);
  if (!msg) throw new EbindError("not_found", `dlq: entry not found (seq ${seq})`);
  return toDeadLetter(msg);
}

/**
 * Prepares the requeue of a workflow step's task: give `workflow.prepareRequeue`. Called with the
 * task about to be published (attempt 0, `enqueued_at` now, no worker id) and the entry it comes
 * from (whose task is as it was dead-lettered). It reopens the failed step (and its DAG) so the
 * requeued run's outcome counts, and returns the task to publish; it throws to refuse the requeue
 * (EbindError `conflict`: the DAG was canceled or deleted, the step is no longer failed), and then
 * nothing is published or deleted.
 */
export type PrepareRequeue = (task: Task, entry: DlqEntry) => Promise<Task>;

/** Options of {@link requeueDeadLetter}. */
export interface RequeueOptions {
  /**
   * Required to requeue the task of a workflow step (an entry whose task has a DAG id): the
   * workflow's `workflow.prepareRequeue`. Without it such an entry is refused, since the step's new
   * outcome would be dropped by the workers' start gate. Called for other tasks too, when given
   * (the workflow's returns them unchanged).
   */
  readonly prepare?: PrepareRequeue | undefined;
  /**
   * A new deadline for the task, or `null` to remove it. By default the original deadline is kept,
   * so a task whose deadline has passed fails again at once with kind `deadline`.
   */
  readonly deadline?: Date | null | undefined;
  /**
   * An observer of the requeue (`ebind/otel`'s `openTelemetry()`, …): its `publish` hook is called
   * with `{ kind: "requeue", task, subject, parent }` — `task` the task about to be republished,
   * `parent` the dead task's trace context — and the trace context its scope returns is carried
   * by the republished task; the scope ends when the task is stored (or with the error). Not
   * called for an entry republished as its raw bytes (no task). A hook that throws is logged
   * (at warn, through {@link logger}) and ignored. @default none
   * @throws EbindError `invalid_argument` when it is not an object of functions.
   */
  readonly telemetry?: Telemetry | undefined;
  /** Where a throwing telemetry hook is reported. @default consoleLogger("warn") */
  readonly logger?: Logger | undefined;
}

/**
 * Publishes the entry's task again and deletes the entry (reference §1.5 `Requeue`). An entry
 * holding bytes that never decoded as a task (`raw`) has those bytes published back on their
 * original subject instead. The task keeps
 * its id, name, payload, target, policy, DAG ids, reply subject, deadline (see {@link RequeueOptions})
 * and trace context (which a {@link RequeueOptions.telemetry} may replace with the requeue's); its
 * attempt is reset to 0, `enqueued_at` set to now and `worker_id` cleared.
 *
 * The message id is derived from the entry (`ebind-requeue:<seq>:<dead-lettered time>`), not from the
 * task id, so the task's own dedupe window cannot swallow it, while two requeues of the same entry
 * racing each other store the task once: the loser gets `conflict`. A requeue that died between
 * storing the task and deleting the entry is completed by the next one (within the stream's
 * duplicate window, 2 min by default): it finds the task stored and deletes the entry.
 *
 * A workflow step's task (issue 12) is requeued only with `prepare: workflow.prepareRequeue`, which
 * first reopens the step and its DAG (`failed` → `running`, the dependents its failure skipped
 * pending again), so awaits started after this returns wait for the new outcome.
 * @throws EbindError `not_found` for a missing entry; `conflict` when the entry was requeued already,
 *   or `prepare` refused it (a step of a canceled or deleted DAG, a step no longer failed);
 *   `invalid_argument` for an entry that holds no decodable task, a bad deadline, or a step's task
 *   without `prepare`.
 */
export async function requeueDeadLetter(broker: Broker, seq: number, options: RequeueOptions = {}): Promise<Requeued> {
  const telemetry = safeTelemetry(options.telemetry, resolveLogger(options.logger, "requeue.logger"), "requeue.telemetry");
  const letter = await getDeadLetter(broker, seq);
  if (!letter.entry) throw new EbindError("invalid_argument", `dlq: entry ${seq} cannot be requeued: ${letter.decodeError ?? "no entry"}`);
  const msgId = `ebind-requeue:${seq}:${letter.entry.deadLetteredAt.getTime()}`;
  const raw = letter.entry.raw;
  if (raw !== undefined && !decodes(raw.data)) {
    // Bytes that never were a task (kept raw by the worker): put them back where they came from,
    // for a worker that can read them now.
    const ack = await broker.publish(raw.subject, raw.data, { msgId });
    if (ack.duplicate) await finishInterrupted(broker, seq, ack.seq);
    else await broker.deleteMessage(DLQ_STREAM, seq);
    return { seq, taskId: letter.entry.task.id, name: letter.entry.task.name, taskSeq: ack.seq };
  }
  const original = letter.entry.task;
  let deadline = original.deadline;
  if (options.deadline !== undefined) {
    if (options.deadline !== null && (!(options.deadline instanceof Date) || Number.isNaN(options.deadline.getTime()))) {
      throw new EbindError("invalid_argument", "dlq: requeue deadline must be a valid Date or null");
    }
    deadline = options.deadline ?? undefined;
  }
  if (original.dagId && options.prepare === undefined) {
    throw new EbindError(
      "invalid_argument",
      `dlq: entry ${seq} is the task of step "${original.stepId ?? ""}" of DAG ${original.dagId}: requeue it with ` +
        `requeueDeadLetter(broker, seq, { prepare: workflow.prepareRequeue }), which reopens the step so its new outcome counts ` +
        `(without it the workers would drop the task as the step of a finished DAG); the entry is kept`,
    );
  }
  let task: Task = { ...original, attempt: 0, enqueuedAt: new Date(), enqueuedAtText: undefined, workerId: undefined, deadline };
  if (options.prepare) task = await options.prepare(task, letter.entry);
  const subject = taskPublishSubject(task.name, task.target);
  const scope = telemetry?.publish({ kind: "requeue", task, subject, parent: original.traceCtx });
  if (scope?.traceCtx !== undefined) task = { ...task, traceCtx: scope.traceCtx };
  let ack: PublishAck;
  try {
    ack = await broker.publish(subject, utf8.encode(encodeTask(task)), { msgId });
  } catch (err) {
    scope?.end(err as Error);
    throw err;
  }
  scope?.end();
  if (ack.duplicate) {
    await finishInterrupted(broker, seq, ack.seq);
    return { seq, taskId: task.id, name: task.name, taskSeq: ack.seq };
  }
  if (!(await broker.deleteMessage(DLQ_STREAM, seq))) {
    throw new EbindError("not_found", `dlq: entry ${seq} was requeued as task seq ${ack.seq} but had already been removed`);
  }
  return { seq, taskId: task.id, name: task.name, taskSeq: ack.seq };
}

/**
 * The task stream already holds this entry's requeued task (the duplicate window recognised the
 * message id). If the entry is still there, the requeue that stored the task died before removing
 * it: remove it now, and the requeue is complete. If it is gone, another requeue finished first.
 * @throws EbindError `conflict` when another requeue already removed the entry.
 */
async function finishInterrupted(broker: Broker, seq: number, taskSeq: number): Promise<void> {
  if (!(await broker.deleteMessage(DLQ_STREAM, seq))) {
    throw new EbindError("conflict", `dlq: entry ${seq} was already requeued (as task seq ${taskSeq})`);
  }
}

function decodes(data: Uint8Array): boolean {
  try {
    decodeTask(data);
    return true;
  } catch {
    return false;
  }
}

/** Removes every entry; returns how many. */
export function purgeDeadLetters(broker: Broker): Promise<number> {
  return broker.purgeStream(DLQ_STREAM);
}
