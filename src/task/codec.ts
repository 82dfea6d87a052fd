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
import { EbindError, ErrKind, TaskError, type TaskErrorData } from "./errors.js";
import type { DlqEntry, Task, TaskResponse } from "./envelope.js";
import { parseObjectRaw, validateJson } from "./rawjson.js";
import { RetryPolicy, type RetryPolicyData } from "./retry.js";
import { formatTime, msToNanos, nanosToMs, parseTime, ZERO_TIME_MS } from "./time.js";

const TASK = "task envelope";
const RESPONSE = "response";
const DLQ = "dlq entry";
const POLICY = "retry policy";
const ERROR = "task error";

// ----------------------------------------------------------------------------------------------
// Encoding

function encodeFailure(doc: string, field: string, why: string): EbindError {
  return new EbindError("invalid_argument", `${doc}: field "${field}": ${why}`);
}

function quote(doc: string, field: string, value: unknown): string {
  if (typeof value !== "string") throw encodeFailure(doc, field, `expected a string, got ${typeof value}`);
  return JSON.stringify(value);
}

function nonEmpty(doc: string, field: string, value: unknown): string {
  if (value === "") throw encodeFailure(doc, field, "must not be empty");
  return quote(doc, field, value);
}

function count(doc: string, field: string, value: unknown): string {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw encodeFailure(doc, field, `expected an integer ≥ 0, got ${String(value)}`);
  }
  return String(value);
}

function time(doc: string, field: string, value: Date | undefined): string {
  try {
    return JSON.stringify(formatTime(value));
  } catch (e) {
    throw encodeFailure(doc, field, errorText(e));
  }
}

function raw(doc: string, field: string, value: string): string {
  try {
    validateJson(value);
  } catch (e) {
    throw encodeFailure(doc, field, `not valid JSON: ${errorText(e)}`);
  }
  return value.trim();
}

/** Code point order, which is the byte order of UTF-8 that Go sorts map keys by. */
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function stringMap(doc: string, field: string, map: Readonly<Record<string, string>>): string {
  const keys = Object.keys(map).sort(compareCodePoints);
  const parts = keys.map((k) => `${JSON.stringify(k)}:${quote(doc, `${field}.${k}`, map[k])}`);
  return `{${parts.join(",")}}`;
}

function optionalString(doc: string, key: string, value: string | undefined): string {
  return value === undefined || value === "" ? "" : `,"${key}":${quote(doc, key, value)}`;
}

/**
 * Encodes a task envelope (reference §2.6.1), keys in Go's order: `id`, `name`, `payload`,
 * `reply_to`?, `deadline`, `enqueued_at`, `attempt`, `trace_ctx`?, `dag_id`?, `step_id`?,
 * `retry_policy`?, `target`?, `worker_id`? (`?` = omitted when empty or absent). `deadline` is always
 * written, as the zero time when unset. `payload` is embedded as is; `""` is written as `null`
 * (Go's nil `json.RawMessage`).
 * @throws {EbindError} `invalid_argument` naming the field: empty id or name, payload that is not
 *   valid JSON, attempt not an integer ≥ 0, a time Go cannot write, an invalid retry policy.
 */
export function encodeTask(t: Task): string {
  const d = TASK;
  let s = `{"id":${nonEmpty(d, "id", t.id)},"name":${nonEmpty(d, "name", t.name)}`;
  s += `,"payload":${t.payload === "" ? "null" : raw(d, "payload", t.payload)}`;
  s += optionalString(d, "reply_to", t.replyTo);
  s += `,"deadline":${time(d, "deadline", t.deadline)},"enqueued_at":${time(d, "enqueued_at", t.enqueuedAt)}`;
  s += `,"attempt":${count(d, "attempt", t.attempt)}`;
  if (t.traceCtx !== undefined && Object.keys(t.traceCtx).length > 0) s += `,"trace_ctx":${stringMap(d, "trace_ctx", t.traceCtx)}`;
  s += optionalString(d, "dag_id", t.dagId);
  s += optionalString(d, "step_id", t.stepId);
  if (t.retryPolicy !== undefined) s += `,"retry_policy":${policyJson(d, "retry_policy", t.retryPolicy)}`;
  s += optionalString(d, "target", t.target);
  s += optionalString(d, "worker_id", t.workerId);
  return `${s}}`;
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

function policyJson(doc: string, field: string, data: RetryPolicyData): string {
  let p: RetryPolicy;
  try {
    p = RetryPolicy.from(data);
  } catch (e) {
    if (field === "") throw e;
    throw encodeFailure(doc, field, errorText(e));
  }
  const coefficient = Number.isFinite(p.backoffCoefficient) ? p.backoffCoefficient : Number.MAX_VALUE;
  let s = `{"initial_interval":${msToNanos(p.initialIntervalMs)},"backoff_coefficient":${JSON.stringify(coefficient)}`;
  s += `,"maximum_interval":${msToNanos(p.maximumIntervalMs)},"maximum_attempts":${p.maximumAttempts}`;
  const kinds = p.nonRetryableErrorKinds;
  if (kinds !== undefined && kinds.length > 0) s += `,"non_retryable_error_kinds":${JSON.stringify(kinds)}`;
  return `${s}}`;
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
  return `${s}}`;
}

// ----------------------------------------------------------------------------------------------
// Decoding

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeError(message: string, cause?: unknown): TaskError {
  return new TaskError(ErrKind.Decode, message, { retryable: false, cause });
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function preview(rawText: string): string {
  return rawText.length > 40 ? `${rawText.slice(0, 40)}…` : rawText;
}

function textOf(doc: string, data: string | Uint8Array): string {
  if (typeof data === "string") return data;
  try {
    return utf8.decode(data);
  } catch (e) {
    throw decodeError(`${doc}: not valid UTF-8`, e);
  }
}

/** The members of one JSON object, read field by field with type checks and named errors. */
class Fields {
  private constructor(
    private readonly doc: string,
    private readonly prefix: string,
    private readonly members: Map<string, string>,
  ) {}

  static parse(doc: string, data: string | Uint8Array): Fields {
    const text = textOf(doc, data);
    try {
      return new Fields(doc, "", parseObjectRaw(text));
    } catch (e) {
      throw decodeError(`${doc}: ${errorText(e)}`, e);
    }
  }

  fail(field: string, why: string): TaskError {
    return decodeError(`${this.doc}: field "${this.prefix}${field}": ${why}`);
  }

  /** The raw text of a member; `undefined` when absent or `null`. */
  raw(field: string): string | undefined {
    const r = this.members.get(field);
    return r === undefined || r === "null" ? undefined : r;
  }

  /** The raw text of a member, `null` included; `undefined` only when absent. */
  rawOrNull(field: string): string | undefined {
    return this.members.get(field);
  }

  /** A failure of this (nested) object as a whole. */
  failSelf(why: string): TaskError {
    return decodeError(this.prefix === "" ? `${this.doc}: ${why}` : `${this.doc}: field "${this.prefix.slice(0, -1)}": ${why}`);
  }

  /** A nested object member as Fields, `undefined` when absent or `null`. */
  object(field: string, required: boolean): Fields | undefined {
    const r = this.raw(field);
    if (r === undefined) {
      if (required) throw this.fail(field, "missing");
      return undefined;
    }
    if (!r.startsWith("{")) throw this.fail(field, `expected an object, got ${preview(r)}`);
    return new Fields(this.doc, `${this.prefix}${field}.`, parseObjectRaw(r));
  }

  string(field: string, required: boolean): string | undefined {
    const r = this.raw(field);
    if (r === undefined || r === '""') {
      if (required) throw this.fail(field, r === undefined ? "missing" : "must not be empty");
      return undefined;
    }
    if (!r.startsWith('"')) throw this.fail(field, `expected a string, got ${preview(r)}`);
    return JSON.parse(r) as string;
  }

  requiredString(field: string): string {
    return this.string(field, true) as string;
  }

  /** A string that may legitimately be empty (TaskError fields); absent → `""`. */
  anyString(field: string): string {
    const r = this.raw(field);
    if (r === undefined) return "";
    if (!r.startsWith('"')) throw this.fail(field, `expected a string, got ${preview(r)}`);
    return JSON.parse(r) as string;
  }

  /** A non-negative integer (Go `int`); absent → 0. */
  count(field: string): number {
    const r = this.raw(field);
    if (r === undefined) return 0;
    const n = /^-?\d+$/.test(r) ? Number(r) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 0) throw this.fail(field, `expected an integer ≥ 0, got ${preview(r)}`);
    return n;
  }

  /** A Go `time.Duration`: integer nanoseconds, returned in ms; absent → 0. */
  duration(field: string): number {
    const r = this.raw(field);
    if (r === undefined) return 0;
    const n = /^\d+$/.test(r) ? Number(r) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw this.fail(field, `expected an integer number of nanoseconds ≥ 0 and < 2^53, got ${preview(r)}`);
    return nanosToMs(n);
  }

  number(field: string): number {
    const r = this.raw(field);
    if (r === undefined) return 0;
    const n = /^-?\d/.test(r) ? Number(r) : Number.NaN;
    if (!Number.isFinite(n)) throw this.fail(field, `expected a finite number, got ${preview(r)}`);
    return n;
  }

  bool(field: string): boolean {
    const r = this.raw(field);
    if (r === undefined || r === "false") return false;
    if (r === "true") return true;
    throw this.fail(field, `expected a boolean, got ${preview(r)}`);
  }

  /** An optional time; absent, `null` and the zero time give `undefined`. */
  optionalTime(field: string): Date | undefined {
    const r = this.raw(field);
    if (r === undefined) return undefined;
    if (!r.startsWith('"')) throw this.fail(field, `expected an RFC 3339 time string, got ${preview(r)}`);
    try {
      return parseTime(JSON.parse(r) as string);
    } catch (e) {
      throw this.fail(field, errorText(e));
    }
  }

  /** A time that must be present; the zero time gives a `Date` at year 1 (ZERO_TIME_MS). */
  requiredTime(field: string): Date {
    if (this.raw(field) === undefined) throw this.fail(field, "missing");
    return this.optionalTime(field) ?? new Date(ZERO_TIME_MS);
  }

  stringMap(field: string): Record<string, string> | undefined {
    const f = this.object(field, false);
    if (f === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const key of f.members.keys()) {
      const r = f.members.get(key) as string;
      if (!r.startsWith('"')) throw f.fail(key, `expected a string, got ${preview(r)}`);
      // defineProperty: a "__proto__" key must stay a key, not replace the prototype.
      Object.defineProperty(out, key, { value: JSON.parse(r) as string, enumerable: true, writable: true, configurable: true });
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }

  stringArray(field: string): string[] | undefined {
    const r = this.raw(field);
    if (r === undefined) return undefined;
    const v: unknown = JSON.parse(r);
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw this.fail(field, `expected an array of strings, got ${preview(r)}`);
    return v.length === 0 ? undefined : v;
  }
}

/** Drops `undefined` members so decoded objects carry only the fields that were on the wire. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function readTask(f: Fields): Task {
  return compact({
    id: f.requiredString("id"),
    name: f.requiredString("name"),
    payload: f.raw("payload") ?? "null",
    replyTo: f.string("reply_to", false),
    deadline: f.optionalTime("deadline"),
    enqueuedAt: f.requiredTime("enqueued_at"),
    attempt: f.count("attempt"),
    traceCtx: f.stringMap("trace_ctx"),
    dagId: f.string("dag_id", false),
    stepId: f.string("step_id", false),
    retryPolicy: readOptionalPolicy(f, "retry_policy"),
    target: f.string("target", false),
    workerId: f.string("worker_id", false),
  });
}

function readOptionalPolicy(parent: Fields, field: string): RetryPolicy | undefined {
  const f = parent.object(field, false);
  return f === undefined ? undefined : readPolicy(f);
}

function readPolicy(f: Fields): RetryPolicy {
  const data: RetryPolicyData = {
    initialIntervalMs: f.duration("initial_interval"),
    backoffCoefficient: f.number("backoff_coefficient"),
    maximumIntervalMs: f.duration("maximum_interval"),
    maximumAttempts: f.count("maximum_attempts"),
    nonRetryableErrorKinds: f.stringArray("non_retryable_error_kinds"),
  };
  try {
    return new RetryPolicy(data);
  } catch (e) {
    throw f.failSelf(errorText(e));
  }
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
  };
}

// ----------------------------------------------------------------------------------------------
// Building blocks shared with the workflow codec (src/workflow/codec.ts), which writes and reads its
// documents by the same rules. Internal: not re-exported from `index.ts`.

export {
  Fields as WireFields,
  compact as compactFields,
  count as encodeCount,
  decodeError,
  encodeFailure,
  errorText,
  nonEmpty as encodeNonEmpty,
  optionalString as encodeOptionalString,
  policyJson as encodePolicyField,
  preview as previewJson,
  quote as encodeString,
  raw as encodeRaw,
  readOptionalPolicy,
  textOf as wireText,
  time as encodeTime,
};
