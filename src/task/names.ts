/**
 * Checks for names that end up inside NATS subjects or KV keys, so a bad one is refused at the API
 * with a clear message instead of breaking a subject later (DESIGN §4, "Bad input"), and the
 * base64url encoding used for subject tokens (reference §2.4).
 * @module
 */
import { EbindError } from "./errors.js";

/** The longest handler name accepted, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 256;

// Whitespace (including Unicode spaces) and control characters (C0, DEL, C1) break NATS subjects.
const BAD_CHAR = /[\s\p{Cc}]/u;

// A surrogate not part of a pair: UTF-8 has no form for it (TextEncoder writes U+FFFD instead).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `value` has no UTF-8 form of its own, or undefined: a lone surrogate would be sent as U+FFFD,
 * so two different strings would become one subject, key or target token.
 */
function loneSurrogateProblem(value: string): string | undefined {
  const lone = LONE_SURROGATE.exec(value);
  if (lone === null) return undefined;
  return `it contains a lone surrogate (${JSON.stringify(lone[0])} at ${lone.index}), which has no UTF-8 form (it would be sent as U+FFFD)`;
}

function subjectProblem(value: string, allowDots: boolean): string | undefined {
  if (value.length === 0) return "it is empty";
  if (value.length > MAX_NAME_LENGTH) return `it is longer than ${MAX_NAME_LENGTH} characters`;
  const bad = BAD_CHAR.exec(value);
  if (bad !== null) return `it contains whitespace or a control character (${JSON.stringify(bad[0])} at ${bad.index})`;
  const lone = loneSurrogateProblem(value);
  if (lone !== undefined) return lone;
  if (value.includes("*") || value.includes(">")) return "it contains a NATS wildcard ('*' or '>')";
  if (!allowDots && value.includes(".")) return "it contains '.', which would split it into several subject tokens";
  if (value.split(".").includes("")) return "it has an empty dot-separated token (leading, trailing or double '.')";
  return undefined;
}

/**
 * Checks a handler name: it is routed as `TASKS.<name>` and `DLQ.<name>`, so it must be a valid NATS
 * subject: 1 … 256 characters, no whitespace or control characters, no lone surrogates (UTF-8 cannot
 * carry them: two names would share a subject), no `*` or `>`, and dot-separated
 * tokens that are all non-empty (`handlers.Foo` is fine, `.Foo`, `Foo.` and `a..b` are not).
 *
 * @param what how the value is named in the message (default `"handler name"`).
 * @throws {EbindError} `invalid_argument`: `handler name "a b" is invalid: it contains whitespace…`.
 */
export function validateHandlerName(name: string, what = "handler name"): void {
  const problem = typeof name === "string" ? subjectProblem(name, true) : `it is a ${typeof name}, not a string`;
  if (problem !== undefined) throw new EbindError("invalid_argument", `${what} ${show(name)} is invalid: ${problem}`);
}

/**
 * Checks a value used as exactly one subject token (a client id, DAG id, step id…): the rules of
 * {@link validateHandlerName} plus no `.` at all.
 * @throws {EbindError} `invalid_argument` naming `what` and the problem.
 */
export function validateSubjectToken(value: string, what: string): void {
  const problem = typeof value === "string" ? subjectProblem(value, false) : `it is a ${typeof value}, not a string`;
  if (problem !== undefined) throw new EbindError("invalid_argument", `${what} ${show(value)} is invalid: ${problem}`);
}

const utf8 = new TextEncoder();

const KEY_TOKEN_CHAR = /[^-_=A-Za-z0-9]/u;

/**
 * Checks a value used as one token of a JetStream KV key (DAG ids and step ids in the `ebind-dags`
 * bucket): non-empty, at most 256 characters, only `A–Z a–z 0–9 - _ =` (KV keys allow `/` and `.`
 * too, but `.` separates tokens and `/` is kept out for readable keys).
 * @throws {EbindError} `invalid_argument` naming `what` and the problem.
 */
export function validateKeyToken(value: string, what: string): void {
  let problem: string | undefined;
  if (typeof value !== "string") problem = `it is a ${typeof value}, not a string`;
  else if (value.length === 0) problem = "it is empty";
  else if (value.length > MAX_NAME_LENGTH) problem = `it is longer than ${MAX_NAME_LENGTH} characters`;
  else {
    const bad = KEY_TOKEN_CHAR.exec(value);
    if (bad !== null) problem = `it contains ${JSON.stringify(bad[0])} at ${bad.index}; only letters, digits, '-', '_' and '=' are allowed`;
  }
  if (problem !== undefined) throw new EbindError("invalid_argument", `${what} ${show(value)} is invalid: ${problem}`);
}

function show(value: unknown): string {
  if (typeof value !== "string") return String(value);
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Base64 with the URL alphabet (`-`, `_`) and no padding, of the UTF-8 bytes of `s` — the subject
 * token of targets and signal names (reference §2.4): `primary` → `cHJpbWFyeQ`,
 * `worker:w1` → `d29ya2VyOncx`.
 */
export function b64url(s: string): string {
  const bytes = utf8.encode(s);
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += B64URL.charAt(n >>> 18) + B64URL.charAt((n >>> 12) & 63) + B64URL.charAt((n >>> 6) & 63) + B64URL.charAt(n & 63);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += B64URL.charAt(n >>> 18) + B64URL.charAt((n >>> 12) & 63);
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += B64URL.charAt(n >>> 18) + B64URL.charAt((n >>> 12) & 63) + B64URL.charAt((n >>> 6) & 63);
  }
  return out;
}

/**
 * The longest target or claim accepted, in UTF-8 bytes: its claim's durable `ebind-targets-` +
 * base64url must fit JetStream's 255-character consumer names.
 */
export const MAX_TARGET_BYTES = 180;

/**
 * Checks a target (or claim): at most {@link MAX_TARGET_BYTES} UTF-8 bytes, any non-blank string without leading or trailing whitespace (workers
 * trim their claims, so such a target would wait for ever) and without lone surrogates; it travels as base64url
 * of its UTF-8 bytes (reference §2.4), which a lone surrogate has none of (`"\ud800"` and `"\ufffd"`
 * would share a token, so one target would reach the other's workers).
 * @throws {EbindError} `invalid_argument` naming `what` and the problem.
 */
export function validateTarget(value: string, what: string): void {
  let problem: string | undefined;
  if (typeof value !== "string") problem = `it is a ${typeof value}, not a string`;
  else if (value.trim().length === 0) problem = "it is empty or blank";
  else if (value.trim() !== value) {
    const at = /^\s/.test(value) ? 0 : value.length - 1;
    problem = `it has leading or trailing whitespace (${JSON.stringify(value.charAt(at))} at ${at}); workers trim their claims, so no worker would take it`;
  } else if (utf8.encode(value).length > MAX_TARGET_BYTES) {
    problem = `it is longer than ${MAX_TARGET_BYTES} UTF-8 bytes (the durable of its claim, ebind-targets-<base64url>, would exceed the server's 255-character limit)`;
  } else problem = loneSurrogateProblem(value);
  if (problem !== undefined) throw new EbindError("invalid_argument", `${what} ${show(value)} is invalid: ${problem}`);
}
