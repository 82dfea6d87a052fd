/**
 * What a worker does with a delivery before any handler runs (reference §3.2 steps 1–4, with
 * DESIGN.md §4's changes): decode it, check it against its subject, count its attempt, and decide
 * whether it runs here, goes back to the queue for another worker (spending nothing), fails at once,
 * or is dead-lettered as it is. Pure: no I/O.
 * @module
 */
import type { Delivery } from "../broker/port.js";
import { handlerNameFromSubject, RESPONSE_PREFIX, TARGET_PREFIX, targetToken } from "../broker/topology.js";
import { decodeTask } from "../task/codec.js";
import type { Task } from "../task/envelope.js";
import { ErrKind, TaskError, toTaskError } from "../task/errors.js";
import { validateHandlerName, validateKeyToken } from "../task/names.js";
import { attemptsBefore } from "../broker/parking.js";

/** The verdict on one delivery. */
export type Admission =
  /** Not a task this or any worker can run: dead-letter it with its bytes (and the task, when it decoded). */
  | { readonly action: "invalid"; readonly reason: string; readonly task: Task | undefined }
  /** Another worker may run it: hold it a moment, then give it back without spending an attempt. */
  | { readonly action: "hand-back"; readonly why: string; readonly task: Task }
  /** It fails now without running (a deadline already past, attempts used up). */
  | { readonly action: "fail"; readonly task: Task; readonly error: TaskError }
  /** Run it. */
  /** Run it; `deadlineAt` is its deadline on the worker's clock (ms since the epoch), if it has one. */
  | { readonly action: "run"; readonly task: Task; readonly deadlineAt: number | undefined };

/** What the worker knows when it admits a delivery. */
export interface AdmissionContext {
  readonly workerId: string;
  /**
   * The most attempts `task` may have (its retry policy's, else the worker's max deliver, else the
   * default policy's); 0 = unlimited. A delivery past it ran no handler yet: its last allowed
   * attempt was cut short by a crash.
   */
  maxAttempts(task: Task): number;
  /** Whether this worker holds the claim. */
  holds(claim: string): boolean;
  /** Whether this worker has a handler registered under the name. */
  hasHandler(name: string): boolean;
  /** Whether this worker can record workflow step outcomes. */
  readonly hasStepHook: boolean;
  /** Now, on the worker's clock, in ms since the epoch. */
  now(): number;
  /** The task's deadline on the worker's clock, in ms since the epoch. */
  deadlineAt(task: Task, delivery: Delivery): number | undefined;
}

/** Decides what to do with `delivery`. Never throws. */
export function admit(delivery: Delivery, ctx: AdmissionContext): Admission {
  let decoded: Task;
  try {
    decoded = decodeTask(delivery.data);
  } catch (err) {
    return { action: "invalid", reason: toTaskError(err).detail, task: undefined };
  }
  const mismatch = targetMismatch(delivery.subject, decoded.target) ?? nameMismatch(delivery.subject, decoded.name) ?? badReplyTo(decoded.replyTo) ?? badNames(decoded);
  if (mismatch !== undefined) return { action: "invalid", reason: mismatch, task: decoded };
  const attempt = attemptsBefore(delivery) + 1;
  const task: Task = { ...decoded, attempt, workerId: ctx.workerId };
  const cap = ctx.maxAttempts(task);
  if (cap > 0 && attempt > cap) {
    const error = new TaskError(
      ErrKind.MaxDeliver,
      `delivered again after its last allowed attempt (${cap}): the worker running that attempt stopped before recording an outcome`,
      { retryable: false },
    );
    return { action: "fail", task: { ...task, attempt: cap }, error };
  }
  if (task.target && !ctx.holds(task.target)) return { action: "hand-back", why: `this worker no longer holds the claim "${task.target}"`, task };
  const deadlineAt = ctx.deadlineAt(task, delivery);
  if (deadlineAt !== undefined && deadlineAt <= ctx.now()) {
    return { action: "fail", task, error: new TaskError(ErrKind.Deadline, "deadline exceeded before dispatch", { retryable: false }) };
  }
  if (task.dagId && !ctx.hasStepHook) return { action: "hand-back", why: "a workflow step arrived but this worker has no stepHook", task };
  if (!ctx.hasHandler(task.name)) return { action: "hand-back", why: `no handler "${task.name}" is registered on this worker`, task };
  return { action: "run", task, deadlineAt };
}

/**
 * Why no worker could ever run the task, by its names, or undefined: a handler name no handler can be
 * registered under (it would be handed back for ever), or DAG and step ids that are not KV key
 * tokens (its step could never be recorded). ebind's own producers refuse these at the API.
 */
function badNames(task: Task): string | undefined {
  try {
    validateHandlerName(task.name, "the task's handler name");
    if (task.dagId !== undefined || task.stepId !== undefined) {
      validateKeyToken(task.dagId ?? "", "the task's DAG id");
      validateKeyToken(task.stepId ?? "", "the task's step id");
    }
  } catch (err) {
    return (err as Error).message.replace(/^invalid_argument: /, "");
  }
  return undefined;
}

/** Why the envelope's handler name contradicts its subject (`TASKS.<name>`, `TASKS_TARGET.<token>.<name>`), or undefined. */
function nameMismatch(subject: string, name: string): string | undefined {
  const fromSubject = handlerNameFromSubject(subject);
  if (fromSubject === undefined || fromSubject === name) return undefined;
  return `the envelope names handler ${JSON.stringify(name)} but arrived on ${subject}, the subject of ${JSON.stringify(fromSubject)}`;
}

/** Longest `reply_to` accepted: a subject far longer would break the connection's control line. */
export const MAX_REPLY_TO_CHARS = 1024;

/**
 * Why a `reply_to` in the response namespace can never be published to, or undefined when it can
 * (or lies outside `RESP.`, which the worker ignores, reference §3.2 step 8). It must be
 * `RESP.<client>.<task>[.…]`: non-empty tokens without whitespace or wildcards, at most
 * {@link MAX_REPLY_TO_CHARS} characters. A task whose response cannot be sent would otherwise run
 * again and again, so it is dead-lettered as `decode` before its handler runs.
 */
function badReplyTo(replyTo: string | undefined): string | undefined {
  if (!replyTo || !replyTo.startsWith(RESPONSE_PREFIX)) return undefined;
  if (replyTo.length > MAX_REPLY_TO_CHARS) return `reply_to of ${replyTo.length} characters is longer than ${MAX_REPLY_TO_CHARS}`;
  const tokens = replyTo.split(".");
  if (tokens.length < 3 || tokens.some((t) => t === "" || t === "*" || t === ">" || /[\s]/.test(t))) {
    return `reply_to ${JSON.stringify(replyTo)} is not a response subject RESP.<client>.<task>`;
  }
  return undefined;
}

/**
 * Why a task's target contradicts the subject it came on, or undefined when they agree: a targeted
 * task must arrive on `TASKS_TARGET.<b64url(target)>.…` and an untargeted one on `TASKS.…`. A
 * contradiction would be handed back forever by every worker, so it is dead-lettered instead.
 */
function targetMismatch(subject: string, target: string | undefined): string | undefined {
  if (subject.startsWith(TARGET_PREFIX)) {
    const token = subject.slice(TARGET_PREFIX.length).split(".")[0];
    if (!target) return `an untargeted task arrived on the targeted subject ${subject}`;
    if (targetToken(target) !== token) return `target ${JSON.stringify(target)} does not match subject ${subject} (expected token ${targetToken(target)})`;
    return undefined;
  }
  if (target) return `task targeted at ${JSON.stringify(target)} arrived on the untargeted subject ${subject}; publish it on ${TARGET_PREFIX}${targetToken(target)}.<name>`;
  return undefined;
}
