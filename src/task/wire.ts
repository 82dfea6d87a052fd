/**
 * The building blocks of the wire codecs (`codec.ts` here and `src/workflow/model/codec.ts`): writing and
 * reading fields by Go's `encoding/json` rules (snake_case keys, omitempty, integer nanoseconds,
 * RFC3339Nano times with the zero time, raw JSON kept as text). Internal: not exported from
 * `index.ts`. Encode failures are `EbindError("invalid_argument")`; decode failures are
 * `TaskError("decode")` naming the document and the field.
 * @module
 */
import { EbindError, ErrKind, TaskError } from "./errors.js";
import { parseObjectRaw, validateJson } from "./rawjson.js";
import { RetryPolicy, type RetryPolicyData } from "./retry.js";
import { formatTime, msToNanos, nanosToMs, parseTime, ZERO_TIME_MS } from "./time.js";

// Encoding

/** The error of a value that has no wire form: `EbindError("invalid_argument", "<doc>: field \"<f>\": <why>")`. */
export function encodeFailure(doc: string, field: string, why: string): EbindError {
  return new EbindError("invalid_argument", `${doc}: field "${field}": ${why}`);
}

/** A string field as JSON text. @throws EbindError `invalid_argument` for a non-string. */
export function quote(doc: string, field: string, value: unknown): string {
  if (typeof value !== "string") throw encodeFailure(doc, field, `expected a string, got ${typeof value}`);
  return JSON.stringify(value);
}

/** A string field that must not be empty, as JSON text. @throws EbindError `invalid_argument`. */
export function nonEmpty(doc: string, field: string, value: unknown): string {
  if (value === "") throw encodeFailure(doc, field, "must not be empty");
  return quote(doc, field, value);
}

/** An integer ≥ 0 (attempts, counts) as JSON text. @throws EbindError `invalid_argument`. */
export function count(doc: string, field: string, value: unknown): string {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw encodeFailure(doc, field, `expected an integer ≥ 0, got ${String(value)}`);
  }
  return String(value);
}

/**
 * A time as Go writes it (RFC3339Nano, the zero time for undefined), as JSON text. `text`, the time
 * as it was read off the wire (see `Fields.preciseTimeText`), is written instead when it names the
 * same millisecond as `value`. @throws EbindError `invalid_argument`.
 */
export function time(doc: string, field: string, value: Date | undefined, text?: string): string {
  if (text !== undefined && value !== undefined && sameMillisecond(text, value)) return `"${text}"`;
  try {
    return JSON.stringify(formatTime(value));
  } catch (e) {
    throw encodeFailure(doc, field, errorText(e));
  }
}

function sameMillisecond(text: string, value: Date): boolean {
  try {
    return parseTime(text)?.getTime() === value.getTime();
  } catch {
    return false;
  }
}

/** Raw JSON embedded as is, after checking it is one JSON value. @throws EbindError `invalid_argument`. */
export function raw(doc: string, field: string, value: string): string {
  try {
    validateJson(value);
  } catch (e) {
    throw encodeFailure(doc, field, `not valid JSON: ${errorText(e)}`);
  }
  return value.trim();
}

/** Code point order, which is the byte order of UTF-8 that Go sorts map keys by. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** A string map with keys sorted as Go sorts them, as JSON text. @throws EbindError `invalid_argument`. */
export function stringMap(doc: string, field: string, map: Readonly<Record<string, string>>): string {
  const keys = Object.keys(map).sort(compareCodePoints);
  const parts = keys.map((k) => `${JSON.stringify(k)}:${quote(doc, `${field}.${k}`, map[k])}`);
  return `{${parts.join(",")}}`;
}

/** `,"key":"value"`, or `""` when the value is undefined or empty (Go's omitempty). */
export function optionalString(doc: string, key: string, value: string | undefined): string {
  return value === undefined || value === "" ? "" : `,"${key}":${quote(doc, key, value)}`;
}


/** A retry policy document (reference §2.6.2) as JSON text. @throws EbindError `invalid_argument`. */
export function policyJson(doc: string, field: string, data: RetryPolicyData): string {
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

// ----------------------------------------------------------------------------------------------
// Decoding

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A decode failure: `TaskError("decode", message)`, not retryable. */
export function decodeError(message: string, cause?: unknown): TaskError {
  return new TaskError(ErrKind.Decode, message, { retryable: false, cause });
}

/** The message of a thrown value. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The start of a document, for error messages. */
export function preview(rawText: string): string {
  return rawText.length > 40 ? `${rawText.slice(0, 40)}…` : rawText;
}

/** A document as text; bytes must be valid UTF-8. @throws TaskError `decode`. */
export function textOf(doc: string, data: string | Uint8Array): string {
  if (typeof data === "string") return data;
  try {
    return utf8.decode(data);
  } catch (e) {
    throw decodeError(`${doc}: not valid UTF-8`, e);
  }
}

/** The members of one JSON object, read field by field with type checks and named errors. */
export class Fields {
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

  /**
   * The time `field` as its wire text (without quotes) when a `Date` would lose some of it: a
   * fraction of more than 3 digits, or an offset other than `Z`. Undefined for anything a `Date`
   * holds exactly, and when absent. Call after reading the field as a time (which validates it).
   */
  preciseTimeText(field: string): string | undefined {
    const r = this.raw(field);
    // '"2026-12-07T14:00:00.123Z"' is 26 characters: anything longer, or not ending in Z, is more
    // than a Date keeps. Times from JSON that needed escapes never parse as times.
    if (r === undefined || r.charCodeAt(0) !== 34 || (r.length <= 26 && r.charCodeAt(r.length - 2) === 90)) return undefined;
    return r.slice(1, -1);
  }

  /**
   * A time that must be present; the zero time, and `null` (which Go's decoder leaves at the zero
   * time), give a `Date` at year 1 (ZERO_TIME_MS).
   */
  requiredTime(field: string): Date {
    if (this.rawOrNull(field) === undefined) throw this.fail(field, "missing");
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
export function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** The retry policy member `field` of `parent`, or undefined when absent or null. @throws TaskError `decode`. */
export function readOptionalPolicy(parent: Fields, field: string): RetryPolicy | undefined {
  const f = parent.object(field, false);
  return f === undefined ? undefined : readPolicy(f);
}

/** A retry policy document read from its fields. @throws TaskError `decode`. */
export function readPolicy(f: Fields): RetryPolicy {
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

