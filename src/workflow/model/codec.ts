/**
 * The workflow's wire codec: the only place the workflow's JSON documents (reference §2.6.6–2.6.11)
 * are converted to and from their TypeScript form (`records.ts`). Pure, no I/O.
 *
 * The rules are the task codec's (`src/task/codec.ts`, reference §2.1): snake_case keys in Go's field
 * order, `omitempty` as the reference tables say, times as RFC3339Nano with the zero time
 * `0001-01-01T00:00:00Z` written where a time is unset and read back as `undefined`, durations as
 * integer nanoseconds, raw JSON (arguments, defaults, payloads, results) embedded as its exact text.
 *
 * Every decode failure throws `TaskError("decode", "<document>: field \"<name>\": <why>")`,
 * non-retryable; every encode failure `EbindError("invalid_argument", …)` naming the field.
 *
 * Argument placeholders (§2.6.8) are detected per array element — an element that is an object whose
 * `__ebind_ref__` (or `__ebind_signal__`) member is the marker string — not by Go's substring search
 * over the element's bytes (reference §8.3 item 3, fixed): a literal string that contains the marker,
 * or an object nesting a placeholder deeper, is a literal.
 * @module
 */
import {
  Fields as WireFields,
  compact as compactFields,
  count as encodeCount,
  decodeError,
  encodeFailure,
  nonEmpty as encodeNonEmpty,
  optionalString as encodeOptionalString,
  policyJson as encodePolicyField,
  preview as previewJson,
  quote as encodeString,
  raw as encodeRaw,
  stringMap as encodeStringMap,
  readOptionalPolicy,
  textOf as wireText,
  time as encodeTime,
  errorText,
} from "../../task/wire.js";
import type { TaskError } from "../../task/errors.js";
import { msToNanos } from "../../task/time.js";
import { parseArrayRaw, parseObjectRaw, validateJson } from "../../task/rawjson.js";
import type { RetryPolicyData } from "../../task/retry.js";
import {
  DagStatus,
  EventKind,
  StepStatus,
  type BreakpointState,
  type DagEvent,
  type DagMeta,
  type Placement,
  type RefArg,
  type RefMode,
  type SignalArg,
  type SignalRecord,
  type StepRecord,
} from "./records.js";

const META = "dag meta";
const STEP = "step record";
const SIGNAL = "signal record";
const EVENT = "dag event";
const PLACEMENT = "placement";
const REF = "ref placeholder";
const SIGNAL_ARG = "signal placeholder";
const ARGS = "args";
const RESULT = "step result";

/** The marker member (and value) of a ref placeholder (§2.6.8). */
export const REF_MARKER = "__ebind_ref__";
/** The marker member (and value) of a signal placeholder (§2.6.8). */
export const SIGNAL_MARKER = "__ebind_signal__";

const DAG_STATUSES: ReadonlySet<string> = new Set(Object.values(DagStatus));
const STEP_STATUSES: ReadonlySet<string> = new Set(Object.values(StepStatus));
const EVENT_KINDS: ReadonlySet<string> = new Set(Object.values(EventKind));
const BP_STATES: ReadonlySet<string> = new Set(["blocked", "released"]);
const BP_POSITIONS: ReadonlySet<string> = new Set(["before", "after"]);
const PLACEMENT_MODES: ReadonlySet<string> = new Set(["direct", "colocate_with", "follow_target_of", "colocate_here"]);
const REF_MODES: ReadonlySet<string> = new Set(["required", "or_default"]);

type Fields = WireFields;
type Data = string | Uint8Array;

// ----------------------------------------------------------------------------------------------
// Encoding helpers

function oneOf(doc: string, field: string, value: unknown, allowed: ReadonlySet<string>): string {
  if (typeof value !== "string" || !allowed.has(value)) {
    throw encodeFailure(doc, field, `expected one of ${[...allowed].join(", ")}, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return JSON.stringify(value);
}

function optionalOneOf(doc: string, key: string, value: string | undefined, allowed: ReadonlySet<string>): string {
  return value === undefined || value === "" ? "" : `,"${key}":${oneOf(doc, key, value, allowed)}`;
}

function stringList(doc: string, field: string, list: readonly string[]): string {
  if (!Array.isArray(list)) throw encodeFailure(doc, field, "expected an array of strings");
  return `[${list.map((v, i) => encodeString(doc, `${field}[${i}]`, v)).join(",")}]`;
}

/** `,"key":[…]` when the list has elements, `""` when it is empty or absent (Go's omitempty). */
function optionalList(doc: string, key: string, list: readonly string[] | undefined): string {
  return list === undefined || list.length === 0 ? "" : `,"${key}":${stringList(doc, key, list)}`;
}

function optionalPolicy(doc: string, key: string, policy: RetryPolicyData | undefined): string {
  return policy === undefined ? "" : `,"${key}":${encodePolicyField(doc, key, policy)}`;
}

/** Raw JSON that must be an array, or `""`/`null` (written `null`, Go's nil RawMessage). */
function argsArray(doc: string, field: string, argsJson: string): string {
  if (argsJson === "") return "null";
  const text = encodeRaw(doc, field, argsJson);
  if (text !== "null" && !text.startsWith("[")) throw encodeFailure(doc, field, `expected a JSON array, got ${previewJson(text)}`);
  return text;
}

function placementJson(doc: string, field: string, p: Placement): string {
  const at = (member: string): string => (field === "" ? member : `${field}.${member}`);
  const parts: string[] = [];
  if (p.mode !== undefined) parts.push(`"mode":${oneOf(doc, at("mode"), p.mode, PLACEMENT_MODES)}`);
  if (p.target !== undefined && p.target !== "") parts.push(`"target":${encodeString(doc, at("target"), p.target)}`);
  if (p.stepId !== undefined && p.stepId !== "") parts.push(`"step_id":${encodeString(doc, at("step_id"), p.stepId)}`);
  return `{${parts.join(",")}}`;
}

// ----------------------------------------------------------------------------------------------
// Decoding helpers

function parse(doc: string, data: Data): Fields {
  return WireFields.parse(doc, data);
}

function requiredOneOf<T extends string>(f: Fields, field: string, allowed: ReadonlySet<string>): T {
  const v = f.requiredString(field);
  if (!allowed.has(v)) throw f.fail(field, `unknown value ${JSON.stringify(v)}`);
  return v as T;
}

function readOptionalOneOf<T extends string>(f: Fields, field: string, allowed: ReadonlySet<string>): T | undefined {
  const v = f.string(field, false);
  if (v !== undefined && !allowed.has(v)) throw f.fail(field, `unknown value ${JSON.stringify(v)}`);
  return v as T | undefined;
}

function list(f: Fields, field: string): string[] {
  return f.stringArray(field) ?? [];
}

function readPlacement(f: Fields): Placement {
  return compactFields({
    mode: readOptionalOneOf<NonNullable<Placement["mode"]>>(f, "mode", PLACEMENT_MODES),
    target: f.string("target", false),
    stepId: f.string("step_id", false),
  });
}

// ----------------------------------------------------------------------------------------------
// DAG meta (§2.6.6)

/**
 * Encodes a DAG meta (reference §2.6.6), keys in Go's order: `id`, `status`, `created_at`,
 * `default_policy`?, `paused_at`, `terminal_steps`?, `active_breakpoints`?, `labels`?, then the
 * extensions `submit_steps`?, `step_ids`? and `trace_ctx`? (`?` = omitted when absent or empty). `paused_at` is always written, the zero time when unset.
 * @throws {EbindError} `invalid_argument` naming the field: an empty id, an unknown status, a time Go
 *   cannot write, an invalid policy.
 */
export function encodeDagMeta(meta: DagMeta): string {
  const d = META;
  let s = `{"id":${encodeNonEmpty(d, "id", meta.id)},"status":${oneOf(d, "status", meta.status, DAG_STATUSES)}`;
  s += `,"created_at":${encodeTime(d, "created_at", meta.createdAt)}`;
  s += optionalPolicy(d, "default_policy", meta.defaultPolicy);
  s += `,"paused_at":${encodeTime(d, "paused_at", meta.pausedAt)}`;
  s += optionalList(d, "terminal_steps", meta.terminalSteps);
  s += optionalList(d, "active_breakpoints", meta.activeBreakpoints);
  s += optionalList(d, "labels", meta.labels);
  // Extension of ebind for TypeScript, last and omitted when unset (Go ignores unknown fields).
  if (meta.submitSteps !== undefined) s += `,"submit_steps":${encodeCount(d, "submit_steps", meta.submitSteps)}`;
  s += optionalList(d, "step_ids", meta.stepIds);
  if (meta.traceCtx !== undefined && Object.keys(meta.traceCtx).length > 0) s += `,"trace_ctx":${encodeStringMap(d, "trace_ctx", meta.traceCtx)}`;
  return `${s}}`;
}

/**
 * Decodes a DAG meta (reference §2.6.6). `id`, `status` (a known {@link DagStatus}) and `created_at`
 * are required; a zero or absent `paused_at` reads as `undefined`; empty lists read as absent. The
 * default policy, when present, is a `RetryPolicy`.
 * @param data JSON text or its UTF-8 bytes.
 * @throws {TaskError} kind `decode`, naming the field.
 */
export function decodeDagMeta(data: Data): DagMeta {
  const f = parse(META, data);
  return compactFields({
    id: f.requiredString("id"),
    status: requiredOneOf<DagStatus>(f, "status", DAG_STATUSES),
    createdAt: f.requiredTime("created_at"),
    defaultPolicy: readOptionalPolicy(f, "default_policy"),
    pausedAt: f.optionalTime("paused_at"),
    terminalSteps: f.stringArray("terminal_steps"),
    activeBreakpoints: f.stringArray("active_breakpoints"),
    labels: f.stringArray("labels"),
    submitSteps: f.raw("submit_steps") === undefined ? undefined : f.count("submit_steps"),
    stepIds: f.stringArray("step_ids"),
    traceCtx: f.stringMap("trace_ctx"),
  });
}

// ----------------------------------------------------------------------------------------------
// Step record (§2.6.7)

/**
 * Encodes a step record (reference §2.6.7), keys in Go's order: `dag_id`, `step_id`, `fn_name`,
 * `args_json`, `deps`?, `optional_deps`?, `status`, `attempt`, `error_kind`?, `error_message`?,
 * `optional`?, `held`?, `held_at`, `break_before`?, `break_after`?, `bp_before`?, `bp_after`?,
 * `bp_blocked_at`, `wait_signals`?, `policy`?, `placement`?, `worker_id`?, `added_at`, `started_at`,
 * `finished_at` (`?` = omitted when empty, false or absent). Times without `?` are always written, the
 * zero time when unset. `args_json` is embedded as is (`""` is written `null`).
 * @throws {EbindError} `invalid_argument` naming the field: empty ids or function name, `args_json`
 *   not a JSON array, an unknown status or breakpoint state, a negative attempt, a time Go cannot
 *   write, an invalid policy or placement mode.
 */
export function encodeStepRecord(r: StepRecord): string {
  const d = STEP;
  let s = `{"dag_id":${encodeNonEmpty(d, "dag_id", r.dagId)},"step_id":${encodeNonEmpty(d, "step_id", r.stepId)}`;
  s += `,"fn_name":${encodeNonEmpty(d, "fn_name", r.fnName)},"args_json":${argsArray(d, "args_json", r.argsJson)}`;
  s += optionalList(d, "deps", r.deps);
  s += optionalList(d, "optional_deps", r.optionalDeps);
  s += `,"status":${oneOf(d, "status", r.status, STEP_STATUSES)},"attempt":${encodeCount(d, "attempt", r.attempt)}`;
  s += encodeOptionalString(d, "error_kind", r.errorKind);
  s += encodeOptionalString(d, "error_message", r.errorMessage);
  if (r.optional) s += `,"optional":true`;
  if (r.held) s += `,"held":true`;
  s += `,"held_at":${encodeTime(d, "held_at", r.heldAt)}`;
  s += optionalList(d, "break_before", r.breakBefore);
  s += optionalList(d, "break_after", r.breakAfter);
  s += optionalOneOf(d, "bp_before", r.bpBefore, BP_STATES);
  s += optionalOneOf(d, "bp_after", r.bpAfter, BP_STATES);
  s += `,"bp_blocked_at":${encodeTime(d, "bp_blocked_at", r.bpBlockedAt)}`;
  s += optionalList(d, "wait_signals", r.waitSignals);
  s += optionalPolicy(d, "policy", r.policy);
  if (r.placement !== undefined) s += `,"placement":${placementJson(d, "placement", r.placement)}`;
  s += encodeOptionalString(d, "worker_id", r.workerId);
  s += `,"added_at":${encodeTime(d, "added_at", r.addedAt)}`;
  s += `,"started_at":${encodeTime(d, "started_at", r.startedAt)},"finished_at":${encodeTime(d, "finished_at", r.finishedAt)}`;
  // Extensions of ebind for TypeScript, last and omitted when unset (Go ignores unknown fields).
  if (r.signalTimeoutMs !== undefined && r.signalTimeoutMs !== 0) s += `,"signal_timeout":${msToNanos(checkedDuration(d, "signal_timeout", r.signalTimeoutMs))}`;
  if (r.signalWaitSince !== undefined) s += `,"signal_wait_since":${encodeTime(d, "signal_wait_since", r.signalWaitSince)}`;
  return `${s}}`;
}

/**
 * Decodes a step record (reference §2.6.7). `dag_id`, `step_id`, `fn_name`, `status` (a known
 * {@link StepStatus}) and `added_at` are required (a zero `added_at` reads as a `Date` at year 1).
 * `args_json` is kept as its raw text; absent reads as `"null"` (zero arguments, see
 * {@link parseArgs}); anything but an array or `null` is refused. Absent lists read as `[]`, absent
 * booleans as `false`, zero times as `undefined`; the policy, when present, is a `RetryPolicy`.
 * @param data JSON text or its UTF-8 bytes.
 * @throws {TaskError} kind `decode`, naming the field.
 */
export function decodeStepRecord(data: Data): StepRecord {
  const f = parse(STEP, data);
  const argsJson = f.rawOrNull("args_json") ?? "null";
  if (argsJson !== "null" && !argsJson.startsWith("[")) throw f.fail("args_json", `expected a JSON array, got ${previewJson(argsJson)}`);
  const placement = f.object("placement", false);
  return compactFields({
    dagId: f.requiredString("dag_id"),
    stepId: f.requiredString("step_id"),
    fnName: f.requiredString("fn_name"),
    argsJson,
    deps: list(f, "deps"),
    optionalDeps: list(f, "optional_deps"),
    status: requiredOneOf<StepStatus>(f, "status", STEP_STATUSES),
    attempt: f.count("attempt"),
    errorKind: f.string("error_kind", false),
    errorMessage: f.string("error_message", false),
    optional: f.bool("optional"),
    held: f.bool("held"),
    heldAt: f.optionalTime("held_at"),
    breakBefore: list(f, "break_before"),
    breakAfter: list(f, "break_after"),
    bpBefore: readOptionalOneOf<BreakpointState>(f, "bp_before", BP_STATES),
    bpAfter: readOptionalOneOf<BreakpointState>(f, "bp_after", BP_STATES),
    bpBlockedAt: f.optionalTime("bp_blocked_at"),
    waitSignals: list(f, "wait_signals"),
    policy: readOptionalPolicy(f, "policy"),
    placement: placement === undefined ? undefined : readPlacement(placement),
    workerId: f.string("worker_id", false),
    addedAt: f.requiredTime("added_at"),
    startedAt: f.optionalTime("started_at"),
    finishedAt: f.optionalTime("finished_at"),
    signalTimeoutMs: f.duration("signal_timeout") || undefined,
    signalWaitSince: f.optionalTime("signal_wait_since"),
  });
}

/** A duration in ms that the wire can carry as integer nanoseconds. */
function checkedDuration(doc: string, field: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms * 1e6 > Number.MAX_SAFE_INTEGER) throw encodeFailure(doc, field, `expected a duration in ms from 0 to ${Math.floor(Number.MAX_SAFE_INTEGER / 1e6)}, got ${ms}`);
  return ms;
}

// ----------------------------------------------------------------------------------------------
// Placement (§2.6.7)

/**
 * Encodes a placement spec (reference §2.6.7): `{"mode"?,"target"?,"step_id"?}`, each omitted when
 * empty (an empty placement is `{}`).
 * @throws {EbindError} `invalid_argument` for an unknown mode.
 */
export function encodePlacement(p: Placement): string {
  return placementJson(PLACEMENT, "", p);
}

/**
 * Decodes a placement spec (reference §2.6.7); empty members read as absent.
 * @throws {TaskError} kind `decode`, naming the field (an unknown mode included).
 */
export function decodePlacement(data: Data): Placement {
  return readPlacement(parse(PLACEMENT, data));
}

// ----------------------------------------------------------------------------------------------
// Signal record (§2.6.10)

/**
 * Encodes a signal record (reference §2.6.10): `{"dag_id","name","payload","delivered_at"}`. The
 * payload is embedded as is; `""` is written as `null` (how ebind stores a signal without payload).
 * @throws {EbindError} `invalid_argument` naming the field: empty dag id or name, a payload that is
 *   not valid JSON, a time Go cannot write.
 */
export function encodeSignalRecord(r: SignalRecord): string {
  const d = SIGNAL;
  let s = `{"dag_id":${encodeNonEmpty(d, "dag_id", r.dagId)},"name":${encodeNonEmpty(d, "name", r.name)}`;
  s += `,"payload":${r.payload === "" ? "null" : encodeRaw(d, "payload", r.payload)}`;
  s += `,"delivered_at":${encodeTime(d, "delivered_at", r.deliveredAt)}`;
  return `${s}}`;
}

/**
 * Decodes a signal record (reference §2.6.10). `dag_id`, `name` and `delivered_at` are required (a
 * zero `delivered_at` reads as a `Date` at year 1); the payload is kept as its raw text, and an absent
 * payload reads as `"null"`.
 * @throws {TaskError} kind `decode`, naming the field.
 */
export function decodeSignalRecord(data: Data): SignalRecord {
  const f = parse(SIGNAL, data);
  return {
    dagId: f.requiredString("dag_id"),
    name: f.requiredString("name"),
    payload: f.rawOrNull("payload") ?? "null",
    deliveredAt: f.requiredTime("delivered_at"),
  };
}

// ----------------------------------------------------------------------------------------------
// Events (§2.6.9)

/**
 * Encodes a workflow event (reference §2.6.9): `kind`, `dag_id`, `step_id` always; then `status`?,
 * `error_kind`?, `error_message`?, `bp_position`?, `bp_labels`?, `signal_name`?, each omitted when
 * empty; and the extensions `step_added_at`? (when the step's record was created),
 * `step_started_at`? (the start the event completes) and `result`? (a done step's stored result).
 * @throws {EbindError} `invalid_argument` naming the field: an unknown kind, status or position, empty
 *   ids.
 */
export function encodeDagEvent(e: DagEvent): string {
  const d = EVENT;
  let s = `{"kind":${oneOf(d, "kind", e.kind, EVENT_KINDS)},"dag_id":${encodeNonEmpty(d, "dag_id", e.dagId)}`;
  s += `,"step_id":${encodeNonEmpty(d, "step_id", e.stepId)}`;
  s += optionalOneOf(d, "status", e.status, STEP_STATUSES);
  s += encodeOptionalString(d, "error_kind", e.errorKind);
  s += encodeOptionalString(d, "error_message", e.errorMessage);
  s += optionalOneOf(d, "bp_position", e.bpPosition, BP_POSITIONS);
  s += optionalList(d, "bp_labels", e.bpLabels);
  s += encodeOptionalString(d, "signal_name", e.signalName);
  // An extension, omitted when unset (ebind for Go ignores it): which incarnation of the step it is.
  if (e.stepAddedAt !== undefined) s += `,"step_added_at":${encodeTime(d, "step_added_at", e.stepAddedAt)}`;
  // Likewise: which start of the step it completes.
  if (e.stepStartedAt !== undefined) s += `,"step_started_at":${encodeTime(d, "step_started_at", e.stepStartedAt)}`;
  // Likewise: the step's stored result, raw JSON (validated here: a broken value would break the event).
  if (e.result !== undefined) s += `,"result":${encodeRaw(d, "result", e.result)}`;
  return `${s}}`;
}

/**
 * Decodes a workflow event (reference §2.6.9). `kind` (a known {@link EventKind}), `dag_id` and
 * `step_id` are required; empty members read as absent.
 * @throws {TaskError} kind `decode`, naming the field.
 */
export function decodeDagEvent(data: Data): DagEvent {
  const f = parse(EVENT, data);
  return compactFields({
    kind: requiredOneOf<EventKind>(f, "kind", EVENT_KINDS),
    dagId: f.requiredString("dag_id"),
    stepId: f.requiredString("step_id"),
    status: readOptionalOneOf<StepStatus>(f, "status", STEP_STATUSES),
    errorKind: f.string("error_kind", false),
    errorMessage: f.string("error_message", false),
    bpPosition: readOptionalOneOf<"before" | "after">(f, "bp_position", BP_POSITIONS),
    bpLabels: f.stringArray("bp_labels"),
    signalName: f.string("signal_name", false),
    stepAddedAt: f.optionalTime("step_added_at"),
    stepStartedAt: f.optionalTime("step_started_at"),
    result: f.rawOrNull("result"),
  });
}

// ----------------------------------------------------------------------------------------------
// Step results (§2.6.11)

/**
 * Reads a stored step result (reference §2.6.11, KV `<dag>.result.<step>`): the handler's raw JSON.
 * A result ebind for Go wrote as empty bytes (an error-only handler, reference §8.3 item 4), a
 * whitespace-only value or an absent one reads as `"null"`; anything else is validated and returned
 * as its exact text, surrounding whitespace trimmed.
 * @throws {TaskError} kind `decode` for bytes that are not UTF-8 or not one JSON value.
 */
export function decodeStepResult(data: Data | undefined): string {
  if (data === undefined) return "null";
  const text = wireText(RESULT, data).trim();
  if (text === "") return "null";
  try {
    validateJson(text);
  } catch (e) {
    throw decodeError(`${RESULT}: ${errorText(e)}`, e);
  }
  return text;
}

// ----------------------------------------------------------------------------------------------
// Argument placeholders (§2.6.8)

/** One element of a step's `args_json` array (see {@link parseArgs}). */
export type ArgSlot =
  | { readonly kind: "literal"; readonly raw: string }
  | { readonly kind: "ref"; readonly ref: RefArg }
  | { readonly kind: "signal"; readonly signal: SignalArg };

/**
 * Encodes a ref placeholder (reference §2.6.8):
 * `{"__ebind_ref__":"__ebind_ref__","step_id":"<id>","mode":"required"|"or_default","default":<raw>}`,
 * `default` omitted when `defaultJson` is absent or `""` (a present `"null"` is written, as Go does for
 * `RefOrDefault(nil)`).
 * @throws {EbindError} `invalid_argument`: empty step id, unknown mode, a default that is not JSON.
 */
export function encodeRefArg(ref: RefArg): string {
  let s = `{"${REF_MARKER}":"${REF_MARKER}","step_id":${encodeNonEmpty(REF, "step_id", ref.stepId)}`;
  s += `,"mode":${oneOf(REF, "mode", ref.mode, REF_MODES)}`;
  if (ref.defaultJson !== undefined && ref.defaultJson !== "") s += `,"default":${encodeRaw(REF, "default", ref.defaultJson)}`;
  return `${s}}`;
}

/**
 * Encodes a signal placeholder (reference §2.6.8): `{"__ebind_signal__":"__ebind_signal__","name":"<n>"}`.
 * @throws {EbindError} `invalid_argument` for an empty name.
 */
export function encodeSignalArg(signal: SignalArg): string {
  return `{"${SIGNAL_MARKER}":"${SIGNAL_MARKER}","name":${encodeNonEmpty(SIGNAL_ARG, "name", signal.name)}}`;
}

/** The marker a placeholder object carries, if any: the signal marker is checked first (as Go does). */
function markerOf(members: Map<string, string>): "ref" | "signal" | undefined {
  const isMarker = (key: string): boolean => {
    const v = members.get(key);
    return v !== undefined && v.startsWith('"') && (JSON.parse(v) as string) === key;
  };
  if (isMarker(SIGNAL_MARKER)) return "signal";
  if (isMarker(REF_MARKER)) return "ref";
  return undefined;
}

function readRef(f: Fields): RefArg {
  const stepId = f.requiredString("step_id");
  const mode = f.requiredString("mode");
  if (!REF_MODES.has(mode)) throw f.fail("mode", `unknown RefMode ${JSON.stringify(mode)}`);
  const defaultJson = f.rawOrNull("default");
  return compactFields({ stepId, mode: mode as RefMode, defaultJson });
}

/**
 * Splits a step's `args_json` into its elements (reference §2.6.8, §3.13). Each element is a ref
 * placeholder, a signal placeholder, or a literal kept as its exact source text. Detection is
 * element-level: an element is a placeholder only when it is an object whose `__ebind_signal__` (checked
 * first) or `__ebind_ref__` member is that marker string (reference §8.3 item 3: Go's substring
 * search is not reproduced). `""`, whitespace and `null` (a nil `args_json`) read as no arguments.
 *
 * @example parseArgs('[1,{"__ebind_ref__":"__ebind_ref__","step_id":"a","mode":"required"}]')
 *   // [{kind:"literal",raw:"1"},{kind:"ref",ref:{stepId:"a",mode:"required"}}]
 * @throws {TaskError} kind `decode`: malformed JSON, not an array, or a placeholder with a missing or
 *   empty `step_id`/`name` or an unknown `mode`, e.g.
 *   `args[1]: ref placeholder: field "mode": unknown RefMode "x"`.
 */
export function parseArgs(argsJson: string): ArgSlot[] {
  const text = argsJson.trim();
  if (text === "" || text === "null") return [];
  let elements: string[];
  try {
    elements = parseArrayRaw(text);
  } catch (e) {
    throw decodeError(`${ARGS}: ${errorText(e)}`, e);
  }
  return elements.map((raw, i): ArgSlot => {
    if (!raw.startsWith("{")) return { kind: "literal", raw };
    const members = parseObjectRaw(raw);
    const marker = markerOf(members);
    if (marker === undefined) return { kind: "literal", raw };
    const f = WireFields.parse(`${ARGS}[${i}]`, raw);
    try {
      if (marker === "signal") return { kind: "signal", signal: { name: f.requiredString("name") } };
      return { kind: "ref", ref: readRef(f) };
    } catch (e) {
      throw retitle(e as TaskError, marker === "signal" ? SIGNAL_ARG : REF);
    }
  });
}

/** Adds the placeholder kind to a decode error's message: `args[1]: ref placeholder: field …`. */
function retitle(e: TaskError, what: string): TaskError {
  const i = e.detail.indexOf(": ");
  return decodeError(`${e.detail.slice(0, i)}: ${what}${e.detail.slice(i)}`, e);
}

/**
 * Joins argument slots back into an `args_json` array: literals as their raw text, placeholders as
 * {@link encodeRefArg} / {@link encodeSignalArg} write them. `encodeArgs(parseArgs(x)) === x` for a
 * compact array written by Go or by this module.
 * @throws {EbindError} `invalid_argument` for a literal that is not one JSON value or a placeholder
 *   that cannot be encoded.
 */
export function encodeArgs(slots: readonly ArgSlot[]): string {
  const parts = slots.map((slot, i) => {
    switch (slot.kind) {
      case "literal":
        return encodeRaw(ARGS, `[${i}]`, slot.raw);
      case "ref":
        return encodeRefArg(slot.ref);
      case "signal":
        return encodeSignalArg(slot.signal);
    }
  });
  return `[${parts.join(",")}]`;
}
