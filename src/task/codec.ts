/**
 * The wire codec: the only place ebind's JSON documents (reference §2.6.1–2.6.5) are converted to and
 * from their TypeScript form (DESIGN §2).
 *
 * Encoding writes what Go's `encoding/json` writes: snake_case keys in Go's field order, `omitempty`
 * exactly as the reference tables say, durations as integer nanoseconds, times as RFC3339Nano with
 * the zero time where a time is unset, and payloads/results embedded as their raw text (never
 * re-encoded, so a 39-digit integer survives). Go's escaping of `<`, `>`, `&` inside strings is not
 * reproduced: the documents are equal in meaning, not byte for byte, when strings contain those.
 *
 * Decoding is as lenient as Go where that is harmless (unknown fields ignored, optional fields may be
 * absent or `null`) and strict about types. Every decode failure throws
 * `TaskError("decode", "<document>: field \"<name>\": <why>", { retryable: false })`.
 * Every encode failure (a value that has no wire form) throws `EbindError("invalid_argument", …)`.
 * @module
 */
import { TaskError, type TaskErrorData } from "./errors.js";
import type { DlqEntry, RawMessage, Task, TaskResponse } from "./envelope.js";
import type { RetryPolicy, RetryPolicyData } from "./retry.js";
import { msToNanos } from "./time.js";
import {
  compact,
  count,
  encodeFailure,
  Fields,
  nonEmpty,
  optionalString,
  policyJson,
  quote,
  raw,
  readOptionalPolicy,
  readPolicy,
  stringMap,
  time,
} from "./wire.js";

const TASK = "task envelope";
const RESPONSE = "response";
const DLQ = "dlq entry";
const POLICY = "retry policy";
const ERROR = "task error";

/**
 * Encodes a task envelope (reference §2.6.1), keys in Go's order: `id`, `name`, `payload`,
 * `reply_to`?, `deadline`, `enqueued_at`, `attempt`, `trace_ctx`?, `dag_id`?, `step_id`?,
 * `retry_policy`?, `target`?, `worker_id`? (`?` = omitted when empty or absent). `deadline` is always
 * written, as the zero time when unset; a decoded task's times keep the precision they arrived with
 * (`deadlineText`, `enqueuedAtText`: Go's nanoseconds and offsets) while unchanged. `payload` is embedded as is; `""` is written as `null`
 * (Go's nil `json.RawMessage`).
 * @throws {EbindError} `invalid_argument` naming the field: empty id or name, payload that is not
 *   valid JSON, attempt not an integer ≥ 0, a time Go cannot write, an invalid retry policy.
 */
export function encodeTask(t: Task): string {
  const d = TASK;
  let s = `{"id":${nonEmpty(d, "id", t.id)},"name":${nonEmpty(d, "name", t.name)}`;
  s += `,"payload":${t.payload === "" ? "null" : raw(d, "payload", t.payload)}`;
  s += optionalString(d, "reply_to", t.replyTo);
  s += `,"deadline":${time(d, "deadline", t.deadline, t.deadlineText)},"enqueued_at":${time(d, "enqueued_at", t.enqueuedAt, t.enqueuedAtText)}`;
  s += `,"attempt":${count(d, "attempt", t.attempt)}`;
  if (t.traceCtx !== undefined && Object.keys(t.traceCtx).length > 0) s += `,"trace_ctx":${stringMap(d, "trace_ctx", t.traceCtx)}`;
  s += optionalString(d, "dag_id", t.dagId);
  s += optionalString(d, "step_id", t.stepId);
  if (t.retryPolicy !== undefined) s += `,"retry_policy":${policyJson(d, "retry_policy", t.retryPolicy)}`;
  s += optionalString(d, "target", t.target);
  s += optionalString(d, "worker_id", t.workerId);
  if (t.attemptTimeoutMs !== undefined) s += `,"attempt_timeout":${durationNanos(d, "attempt_timeout", t.attemptTimeoutMs)}`;
  return `${s}}`;
}

/** A positive duration in ms as integer nanoseconds. */
function durationNanos(doc: string, field: string, ms: number): string {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0 || !Number.isSafeInteger(Math.round(ms * 1e6))) {
    throw encodeFailure(doc, field, `expected a positive number of ms below 2^53 ns, got ${String(ms)}`);
  }
  return String(msToNanos(ms));
}

/**
 * Encodes a retry policy (reference §2.6.2): `initial_interval`, `backoff_coefficient`,
 * `maximum_interval`, `maximum_attempts` always; `non_retryable_error_kinds` when non-empty.
 * Intervals become integer nanoseconds. An infinite coefficient, which JSON cannot carry, is written
 * as the largest finite double (`1.7976931348623157e+308`): the delays it produces are the same.
 * @throws {EbindError} `invalid_argument` when the policy is invalid (see {@link RetryPolicy}).
 */
export function encodeRetryPolicy(p: RetryPolicyData): string {
  return policyJson(POLICY, "", p);
}


/**
 * Encodes a task error (reference §2.6.4): `{"kind","message","retryable"}`, all always present.
 * For a {@link TaskError} the `message` written is its `detail` (without the `kind: ` prefix).
 */
export function encodeTaskError(e: TaskError | TaskErrorData): string {
  const data = e instanceof TaskError ? e.toData() : e;
  if (typeof data.retryable !== "boolean") throw encodeFailure(ERROR, "retryable", "expected a boolean");
  return `{"kind":${quote(ERROR, "kind", data.kind)},"message":${quote(ERROR, "message", data.message)},"retryable":${data.retryable}}`;
}

/**
 * Encodes a response (reference §2.6.3): `task_id`, `result`? (raw, omitted when absent or `""`),
 * `error`? (omitted on success), `attempts`, `completed_at`.
 * @throws {EbindError} `invalid_argument` naming the field.
 */
export function encodeResponse(r: TaskResponse): string {
  const d = RESPONSE;
  let s = `{"task_id":${nonEmpty(d, "task_id", r.taskId)}`;
  if (r.result !== undefined && r.result !== "") s += `,"result":${raw(d, "result", r.result)}`;
  if (r.error !== undefined) s += `,"error":${encodeTaskError(r.error)}`;
  s += `,"attempts":${count(d, "attempts", r.attempts)},"completed_at":${time(d, "completed_at", r.completedAt)}`;
  return `${s}}`;
}

/**
 * Encodes a dead-letter entry (reference §2.6.5): `task`, `error`, `final_attempt`,
 * `dead_lettered_at`, all always present.
 * @throws {EbindError} `invalid_argument` naming the field.
 */
export function encodeDlqEntry(e: DlqEntry): string {
  const d = DLQ;
  let s = `{"task":${encodeTask(e.task)},"error":${encodeTaskError(e.error)}`;
  s += `,"final_attempt":${count(d, "final_attempt", e.finalAttempt)},"dead_lettered_at":${time(d, "dead_lettered_at", e.deadLetteredAt)}`;
  if (e.raw !== undefined) s += `,"raw":{"subject":${nonEmpty(d, "raw.subject", e.raw.subject)},"data":"${Buffer.from(e.raw.data).toString("base64")}"}`;
  return `${s}}`;
}

function readTask(f: Fields): Task {
  return compact({
    id: f.requiredString("id"),
    name: f.requiredString("name"),
    payload: f.raw("payload") ?? "null",
    replyTo: f.string("reply_to", false),
    deadline: f.optionalTime("deadline"),
    deadlineText: f.preciseTimeText("deadline"),
    enqueuedAt: f.requiredTime("enqueued_at"),
    enqueuedAtText: f.preciseTimeText("enqueued_at"),
    attempt: f.count("attempt"),
    traceCtx: f.stringMap("trace_ctx"),
    dagId: f.string("dag_id", false),
    stepId: f.string("step_id", false),
    retryPolicy: readOptionalPolicy(f, "retry_policy"),
    target: f.string("target", false),
    workerId: f.string("worker_id", false),
    attemptTimeoutMs: f.duration("attempt_timeout") || undefined,
  });
}

function readTaskError(f: Fields): TaskErrorData {
  return { kind: f.anyString("kind"), message: f.anyString("message"), retryable: f.bool("retryable") };
}

/**
 * Decodes a task envelope (reference §2.6.1). `id` and `name` must be non-empty strings and
 * `enqueued_at` present; everything else may be absent. The payload is kept as its raw text; an
 * absent payload reads as `"null"` (what Go's nil `json.RawMessage` writes), which the dispatcher
 * treats as zero arguments. A zero `deadline` reads as `undefined`; empty strings and an empty
 * `trace_ctx` read as absent.
 * @param data JSON text, or its UTF-8 bytes.
 * @throws {TaskError} kind `decode`, non-retryable, naming the field.
 */
export function decodeTask(data: string | Uint8Array): Task {
  return readTask(Fields.parse(TASK, data));
}

/**
 * Decodes a retry policy (reference §2.6.2); absent numbers read as 0, intervals from nanoseconds.
 * @throws {TaskError} kind `decode`, non-retryable, for a malformed document or an invalid policy.
 */
export function decodeRetryPolicy(data: string | Uint8Array): RetryPolicy {
  const f = Fields.parse(POLICY, data);
  return readPolicy(f);
}

/**
 * Decodes a task error (reference §2.6.4) to its wire shape (use `TaskError.fromData` for an
 * `Error`). Absent fields read as Go's zero values (`""`, `false`).
 * @throws {TaskError} kind `decode`, non-retryable, naming the field.
 */
export function decodeTaskError(data: string | Uint8Array): TaskErrorData {
  return readTaskError(Fields.parse(ERROR, data));
}

/**
 * Decodes a response (reference §2.6.3). `task_id` must be a non-empty string and `completed_at`
 * present. `result` is kept as raw text when present (even `null`, which a handler returning `null`
 * produces), `undefined` when absent.
 * @throws {TaskError} kind `decode`, non-retryable, naming the field.
 */
export function decodeResponse(data: string | Uint8Array): TaskResponse {
  const f = Fields.parse(RESPONSE, data);
  const errorFields = f.object("error", false);
  return compact({
    taskId: f.requiredString("task_id"),
    result: f.rawOrNull("result"),
    error: errorFields === undefined ? undefined : readTaskError(errorFields),
    attempts: f.count("attempts"),
    completedAt: f.requiredTime("completed_at"),
  });
}

/**
 * Decodes a dead-letter entry (reference §2.6.5). `task`, `error` and `dead_lettered_at` must be
 * present.
 * @throws {TaskError} kind `decode`, non-retryable, naming the field (`task.attempt`, …).
 */
export function decodeDlqEntry(data: string | Uint8Array): DlqEntry {
  const f = Fields.parse(DLQ, data);
  return {
    task: readTask(f.object("task", true) as Fields),
    error: readTaskError(f.object("error", true) as Fields),
    finalAttempt: f.count("final_attempt"),
    deadLetteredAt: f.requiredTime("dead_lettered_at"),
    raw: readRaw(f.object("raw", false)),
  };
}

function readRaw(f: Fields | undefined): RawMessage | undefined {
  if (f === undefined) return undefined;
  const subject = f.requiredString("subject");
  const data = f.string("data", false) ?? "";
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw f.fail("data", "expected standard base64");
  return { subject, data: new Uint8Array(Buffer.from(data, "base64")) };
}
