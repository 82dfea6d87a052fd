/**
 * Settling a delivery once its attempt is decided (reference §3.2 steps 7–8, DESIGN.md §4): the
 * step hook first, then the DLQ entry and the response, then ack or term. A failure to record an
 * outcome that may pass (the server is unreachable) naks the delivery so the task runs again later;
 * one that cannot pass (a result or an entry larger than the server accepts) is turned into
 * something that fits, so no task loops forever and none vanishes.
 * @module
 */
import { taskFields, type Logger } from "../broker/logger.js";
import type { Broker, Delivery } from "../broker/port.js";
import { DLQ_HEADROOM_BYTES, DLQ_STREAM, dlqSubject, handlerNameFromSubject } from "../broker/topology.js";
import { encodeResponse } from "../task/codec.js";
import type { Task } from "../task/envelope.js";
import { EbindError, ErrKind, TaskError } from "../task/errors.js";
import type { ResolvedWorkerOptions } from "./options.js";
import { publishDeadLetter, publishResponse, type Recorded } from "./outcomes.js";
import { retryDelayMs } from "./retry-decision.js";
import { RecordingHealth } from "./recording-health.js";

/** More than a response's fields can take besides its result (task id, attempts, time, keys). */
const RESPONSE_OVERHEAD_BYTES = 1024;

/** Error messages longer than this many characters are cut on the wire (a DLQ entry must fit). */
export const MAX_ERROR_DETAIL_CHARS = 8192;
/** Error kinds longer than this many characters are cut on the wire (a DLQ entry must fit). */
export const MAX_ERROR_KIND_CHARS = 256;

/** Errors that will recur however often the publish is tried again. */
function isPermanent(err: unknown): boolean {
  return err instanceof EbindError && (err.code === "payload_too_large" || err.code === "invalid_argument");
}

/** A TaskError whose fields are well-formed and whose message fits in a DLQ entry. */
export function wireSafe(error: TaskError): TaskError {
  let kind = typeof error.kind === "string" && error.kind.length > 0 ? error.kind : ErrKind.Handler;
  if (kind.length > MAX_ERROR_KIND_CHARS) kind = `${kind.slice(0, MAX_ERROR_KIND_CHARS)}…`;
  let detail = typeof error.detail === "string" ? error.detail : String(error.detail);
  if (detail.length > MAX_ERROR_DETAIL_CHARS) {
    detail = `${detail.slice(0, MAX_ERROR_DETAIL_CHARS)}… (${detail.length - MAX_ERROR_DETAIL_CHARS} more characters cut)`;
  }
  if (kind === error.kind && detail === error.detail && typeof error.retryable === "boolean") return error;
  return new TaskError(kind, detail, { retryable: error.retryable === true, cause: error });
}

/** Records outcomes for one worker. */
export class Settler {
  /** Whether outcomes are being stored now (see `recording-health.ts`). */
  readonly health = new RecordingHealth();

  constructor(
    private readonly broker: Broker,
    private readonly options: ResolvedWorkerOptions,
    private readonly logger: Logger,
  ) {}

  /**
   * A result that cannot be delivered fails the attempt instead, with kind `payload_too_large`
   * naming the limit: a workflow step's result larger than a task may be (it could neither be
   * stored nor passed on), or a response larger than the server's max payload. Otherwise undefined.
   */
  oversizedResult(task: Task, result: string | undefined): TaskError | undefined {
    if (result === undefined) return undefined;
    if (task.dagId) {
      // A step's result is stored in KV and travels inside its dependents' tasks.
      const limit = this.broker.maxPayloadBytes - DLQ_HEADROOM_BYTES;
      const bytes = Buffer.byteLength(result);
      if (bytes > limit) {
        return new TaskError(
          "payload_too_large",
          `step result of ${bytes} bytes is more than the ${limit} bytes a step result may use; return a reference (a key, a path) instead`,
          { retryable: false },
        );
      }
    }
    if (!task.replyTo) return undefined;
    // The response adds a few hundred bytes to the result: encode it to measure only near the limit,
    // not for every task (it is encoded again when published).
    if (Buffer.byteLength(result) + RESPONSE_OVERHEAD_BYTES <= this.broker.maxPayloadBytes) return undefined;
    const bytes = Buffer.byteLength(encodeResponse({ taskId: task.id, result, attempts: task.attempt, completedAt: new Date() }));
    if (bytes <= this.broker.maxPayloadBytes) return undefined;
    return new TaskError(
      "payload_too_large",
      `result of ${result.length} characters makes a response of ${bytes} bytes, more than the server's max payload of ${this.broker.maxPayloadBytes} bytes; return a reference (a key, a path) instead`,
      { retryable: false },
    );
  }

  /**
   * Success: hook, response, ack.
   * @returns undefined when recorded; when it could not be, the delay in ms after which the task
   *   runs again (the delivery was nak'ed).
   */
  async succeed(delivery: Delivery, task: Task, result: string | undefined): Promise<number | undefined> {
    this.health.begin(delivery);
    try {
      await this.options.stepHook?.onStepDone(task, result);
      await publishResponse(this.broker, task, task.attempt, { result });
    } catch (err) {
      this.health.end(delivery, false);
      return this.#retryLater(delivery, task, "its success could not be recorded", err);
    }
    this.health.end(delivery, true);
    delivery.ack();
    return undefined;
  }

  /**
   * Terminal failure: hook, DLQ entry, response, term. When this run's outcome is already recorded
   * (a stale copy of the task settled it first), this failure is dropped whole: no second DLQ entry,
   * no response, and no DLQ entry left beside another copy's success.
   * @returns undefined when recorded; when it could not be, the delay in ms after which the task
   *   runs again (the delivery was nak'ed).
   */
  async fail(delivery: Delivery, task: Task, failure: TaskError): Promise<number | undefined> {
    this.health.begin(delivery);
    const retryInMs = await this.#fail(delivery, task, failure);
    this.health.end(delivery, retryInMs === undefined);
    return retryInMs;
  }

  /** {@link fail}'s work; the nak delay when the failure could not be recorded, else undefined. */
  async #fail(delivery: Delivery, task: Task, failure: TaskError): Promise<number | undefined> {
    const error = wireSafe(failure);
    try {
      const settled = await this.options.stepHook?.onStepFailed(task, error);
      if (settled === "unknown") {
        // A step of no DAG (never submitted, or deleted): keep it where an operator sees it.
        await this.deadLetterInvalid(delivery, `step ${JSON.stringify(task.stepId ?? "")} of DAG ${JSON.stringify(task.dagId ?? "")} does not exist; it failed with ${error.kind}: ${error.detail}`, task);
        return undefined;
      }
      if (settled === "superseded") {
        // The step already has its terminal record (canceled while it ran, or settled by another
        // attempt): that is its one outcome; no DLQ entry, no second response.
        delivery.term();
        return undefined;
      }
      // The DLQ entry goes first, so a producer that sees the failure finds its entry. Another copy
      // of this run may have recorded its outcome already (a stale delivery): a duplicate entry is
      // not stored, and an entry written beside that outcome's response is taken back.
      const entry = await this.#deadLetter(delivery, task, error);
      if (entry.recorded === "duplicate") {
        delivery.term();
        return undefined;
      }
      if ((await publishResponse(this.broker, task, task.attempt, { error })) === "duplicate" && entry.seq !== undefined) {
        await this.broker.deleteMessage(DLQ_STREAM, entry.seq);
      }
    } catch (err) {
      return this.#retryLater(delivery, task, "its failure could not be recorded", err);
    }
    delivery.term();
    return undefined;
  }

  /** The DLQ entry; a task too large to fit in one is recorded without its payload, saying so. */
  async #deadLetter(delivery: Delivery, task: Task, error: TaskError): Promise<{ recorded: Recorded; seq: number | undefined }> {
    const name = handlerNameFromSubject(delivery.subject) ?? task.name;
    let entry: { recorded: Recorded; seq: number | undefined };
    try {
      entry = await publishDeadLetter(this.broker, task, error, name);
    } catch (err) {
      if (!isPermanent(err)) throw err;
      const note = `(payload of ${task.payload.length} characters left out: the entry would exceed the server's max payload) `;
      entry = await publishDeadLetter(this.broker, { ...task, payload: "[]" }, new TaskError(error.kind, note + error.detail, { retryable: error.retryable }), name);
    }
    if (entry.recorded === "recorded") this.options.telemetry?.deadLetter({ task, error, subject: dlqSubject(name) });
    return entry;
  }

  /** Naks the delivery for a later run after its outcome could not be recorded; returns the delay in ms. */
  #retryLater(delivery: Delivery, task: Task, what: string, err: unknown): number {
    const permanent = isPermanent(err);
    const delay = permanent ? this.options.backoffMs[this.options.backoffMs.length - 1]! : retryDelayMs(task, task.attempt, this.options);
    const fields = taskFields(task, { delay_ms: delay, error: (err as Error).message });
    if (permanent) this.logger.error(fields, `worker: task ${task.id}: ${what} and never will as it stands; it stays in the stream`);
    else this.logger.warn(fields, `worker: task ${task.id}: ${what}; it will run again`);
    delivery.nak(delay);
    return delay;
  }

  /**
   * A message this worker cannot run as a task — it does not decode, or it contradicts its subject
   * — is dead-lettered with kind `decode` and its original bytes (`raw`), so it can be read and
   * requeued. The entry's task is the envelope when it decoded (its own id and payload), else a
   * stand-in named after the subject. An entry too large with its bytes is written without them,
   * saying so.
   */
  async deadLetterInvalid(delivery: Delivery, reason: string, decoded?: Task): Promise<void> {
    const name = handlerNameFromSubject(delivery.subject) ?? decoded?.name ?? "unknown";
    const body = new TextDecoder("utf-8", { fatal: false }).decode(delivery.data.subarray(0, 512));
    const detail = `invalid task envelope on ${delivery.subject} (stream seq ${delivery.streamSeq}): ${reason}` + (decoded ? "" : `; body begins ${JSON.stringify(body)}`);
    const attempt = delivery.deliveryCount;
    const task: Task = decoded
      ? { ...decoded, attempt, workerId: this.options.workerId }
      : { id: delivery.msgId || `invalid-${delivery.streamSeq}`, name, payload: "[]", enqueuedAt: new Date(), attempt, workerId: this.options.workerId };
    const error = wireSafe(new TaskError(ErrKind.Decode, detail, { retryable: false }));
    const raw = { subject: delivery.subject, data: delivery.data };
    try {
      try {
        await publishDeadLetter(this.broker, task, error, name, raw);
      } catch (err) {
        if (!isPermanent(err)) throw err;
        const note = new TaskError(ErrKind.Decode, `(original bytes left out: the entry would exceed the server's max payload) ${detail}`, { retryable: false });
        await publishDeadLetter(this.broker, { ...task, payload: "[]" }, wireSafe(note), name);
      }
    } catch (err) {
      this.logger.error(taskFields(task, { subject: delivery.subject, seq: delivery.streamSeq, error: (err as Error).message }), "worker: could not dead-letter an invalid envelope; will retry");
      delivery.nak(this.options.claimRetryDelayMs);
      return;
    }
    this.options.telemetry?.deadLetter({ task: decoded === undefined ? undefined : task, error, subject: dlqSubject(name) });
    this.logger.warn(taskFields(task, { subject: delivery.subject, seq: delivery.streamSeq, reason }), "worker: dead-lettered an invalid envelope");
    delivery.term();
  }
}
