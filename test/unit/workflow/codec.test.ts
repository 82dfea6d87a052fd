import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EbindError, RetryPolicy } from "../../../src/task/index.js";
import {
  decodeDagEvent,
  decodeDagMeta,
  decodePlacement,
  decodeSignalRecord,
  decodeStepRecord,
  decodeStepResult,
  encodeArgs,
  encodeDagEvent,
  encodeDagMeta,
  encodePlacement,
  encodeRefArg,
  encodeSignalArg,
  encodeSignalRecord,
  encodeStepRecord,
  parseArgs,
  type ArgSlot,
} from "../../../src/workflow/model/codec.js";
import type { DagEvent, StepRecord } from "../../../src/workflow/model/records.js";
import { decodeFailure } from "../../support/wire.js";

function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/workflow/${name}.json`, import.meta.url), "utf8").replace(/\n$/, "");
}

const BIG = "123456789012345678901234567890123456789";
const ZERO = "0001-01-01T00:00:00Z";
const POLICY = { initialIntervalMs: 500, backoffCoefficient: 1.5, maximumIntervalMs: 10_000, maximumAttempts: 3, nonRetryableErrorKinds: ["validation"] };


describe("golden fixtures: DAG meta (reference §2.6.6)", () => {
  it("meta with labels, breakpoints, a default policy and paused_at", () => {
    const text = fixture("meta-full");
    const m = decodeDagMeta(text);
    expect(m).toEqual({
      id: "dag-7",
      status: "paused",
      createdAt: new Date("2026-05-01T10:00:00.123Z"),
      defaultPolicy: POLICY,
      pausedAt: new Date("2026-05-01T10:05:00Z"),
      activeBreakpoints: ["review", "deploy"],
      labels: ["env=prod", "team=billing"],
    });
    expect(m.defaultPolicy).toBeInstanceOf(RetryPolicy);
    expect(encodeDagMeta(m)).toBe(text);
  });

  it("minimal meta: zero paused_at reads as unset and is written back", () => {
    const text = fixture("meta-minimal");
    const m = decodeDagMeta(text);
    expect(m).toStrictEqual({ id: "d1", status: "running", createdAt: new Date("2026-05-01T10:00:00Z") });
    expect(encodeDagMeta(m)).toBe(text);
  });

  it("TestState_PausedAt_JSON: paused_at round-trips; empty lists are omitted", () => {
    const at = new Date("2026-05-01T12:34:56.789Z");
    const text = encodeDagMeta({ id: "d", status: "paused", createdAt: at, pausedAt: at, labels: [], activeBreakpoints: [] });
    expect(text).toBe(`{"id":"d","status":"paused","created_at":"2026-05-01T12:34:56.789Z","paused_at":"2026-05-01T12:34:56.789Z"}`);
    expect(decodeDagMeta(text).pausedAt).toEqual(at);
  });

  it("submit_steps (extension, issue 12): written last when set, read back; absent reads as unset", () => {
    const at = new Date("2026-05-01T10:00:00Z");
    const text = encodeDagMeta({ id: "d", status: "running", createdAt: at, submitSteps: 3 });
    expect(text).toBe(`{"id":"d","status":"running","created_at":"2026-05-01T10:00:00Z","paused_at":"0001-01-01T00:00:00Z","submit_steps":3}`);
    expect(decodeDagMeta(text).submitSteps).toBe(3);
    expect(decodeDagMeta(text.replace(',"submit_steps":3', "")).submitSteps).toBeUndefined();
    expect(decodeFailure(() => decodeDagMeta(text.replace("3}", "-1}"))).detail).toMatch(/field "submit_steps"/);
  });

  it("step_ids (extension, issue 14): written after submit_steps when set, read back; absent reads as unset", () => {
    const at = new Date("2026-05-01T10:00:00Z");
    const text = encodeDagMeta({ id: "d", status: "running", createdAt: at, submitSteps: 2, stepIds: ["a", "b"] });
    expect(text).toBe(`{"id":"d","status":"running","created_at":"2026-05-01T10:00:00Z","paused_at":"0001-01-01T00:00:00Z","submit_steps":2,"step_ids":["a","b"]}`);
    expect(decodeDagMeta(text).stepIds).toEqual(["a", "b"]);
    expect(decodeDagMeta(text.replace(',"step_ids":["a","b"]', "")).stepIds).toBeUndefined();
    expect(decodeFailure(() => decodeDagMeta(text.replace('["a","b"]', '["a",2]'))).detail).toMatch(/field "step_ids"/);
  });

  it("trace_ctx (extension, issue 17): an object of strings written last, read back; empty or absent reads as unset", () => {
    const text = fixture("meta-trace");
    const m = decodeDagMeta(text);
    expect(m.traceCtx).toEqual({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: "congo=t61rcWkgMzE" });
    expect(encodeDagMeta(m)).toBe(text);
    const at = new Date("2026-05-01T10:00:00Z");
    expect(encodeDagMeta({ id: "d", status: "running", createdAt: at, traceCtx: {} })).toBe(`{"id":"d","status":"running","created_at":"2026-05-01T10:00:00Z","paused_at":"0001-01-01T00:00:00Z"}`);
    expect(decodeDagMeta(text.replace(/,"trace_ctx":\{[^}]*\}/, "")).traceCtx).toBeUndefined();
    expect(decodeDagMeta(text.replace(/"trace_ctx":\{[^}]*\}/, '"trace_ctx":{}')).traceCtx).toBeUndefined();
    expect(decodeFailure(() => decodeDagMeta(text.replace('"tracestate":"congo=t61rcWkgMzE"', '"tracestate":7'))).detail).toMatch(/field "trace_ctx.tracestate"/);
    expect(() => encodeDagMeta({ ...m, traceCtx: { traceparent: 5 as never } })).toThrow(EbindError);
  });

  it("rejects an unknown status and a missing id, naming the field", () => {
    expect(decodeFailure(() => decodeDagMeta('{"id":"d","status":"weird","created_at":"2026-05-01T10:00:00Z"}')).detail).toBe(
      'dag meta: field "status": unknown value "weird"',
    );
    expect(decodeFailure(() => decodeDagMeta('{"status":"running","created_at":"2026-05-01T10:00:00Z"}')).detail).toBe('dag meta: field "id": missing');
    expect(() => encodeDagMeta({ id: "d", status: "nope" as never, createdAt: new Date() })).toThrow(EbindError);
  });
});

describe("golden fixtures: step record (reference §2.6.7)", () => {
  it("step record with every field", () => {
    const text = fixture("step-full");
    const r = decodeStepRecord(text);
    expect(r).toEqual({
      dagId: "dag-7",
      stepId: "charge",
      fnName: "billing.Charge",
      argsJson: `[${BIG},{"__ebind_ref__":"__ebind_ref__","step_id":"quote","mode":"or_default","default":{"amount":1e400}},{"__ebind_signal__":"__ebind_signal__","name":"approved"},"caf\\u00e9 \\"__ebind_ref__\\""]`,
      deps: ["quote", "load"],
      optionalDeps: ["audit"],
      status: "failed",
      attempt: 3,
      errorKind: "validation",
      errorMessage: "card declined …",
      optional: true,
      held: true,
      heldAt: new Date("2026-05-01T10:01:00.500Z"),
      breakBefore: ["review"],
      breakAfter: ["deploy", "post"],
      bpBefore: "released",
      bpAfter: "blocked",
      bpBlockedAt: new Date("2026-05-01T10:02:00Z"),
      waitSignals: ["approved"],
      policy: POLICY,
      placement: { mode: "colocate_with", target: "gpu-1", stepId: "load" },
      workerId: "w-42",
      addedAt: new Date("2026-05-01T10:00:00.001Z"),
      startedAt: new Date("2026-05-01T10:03:00.250Z"),
      finishedAt: new Date("2026-05-01T10:04:00.999Z"),
    } satisfies StepRecord);
    expect(encodeStepRecord(r)).toBe(text);
  });

  it("minimal pending step: attempt and all times written, lists omitted", () => {
    const text = fixture("step-pending");
    const r = decodeStepRecord(text);
    expect(r).toStrictEqual({
      dagId: "d1",
      stepId: "a",
      fnName: "main.A",
      argsJson: "[]",
      deps: [],
      optionalDeps: [],
      status: "pending",
      attempt: 0,
      optional: false,
      held: false,
      breakBefore: [],
      breakAfter: [],
      waitSignals: [],
      addedAt: new Date("2026-05-01T10:00:00Z"),
    });
    expect(encodeStepRecord(r)).toBe(text);
  });

  it("a nil args_json (Go writes null) reads as null and means zero arguments", () => {
    const text = fixture("step-pending").replace('"args_json":[]', '"args_json":null');
    const r = decodeStepRecord(text);
    expect(r.argsJson).toBe("null");
    expect(parseArgs(r.argsJson)).toEqual([]);
    expect(encodeStepRecord(r)).toBe(text);
    expect(decodeStepRecord(text.replace('"args_json":null,', "")).argsJson).toBe("null");
    expect(parseArgs("")).toEqual([]);
    expect(encodeStepRecord({ ...r, argsJson: "" })).toBe(text);
  });

  it("an empty placement survives as {}", () => {
    const text = fixture("step-pending").replace(`"bp_blocked_at":"${ZERO}"`, `"bp_blocked_at":"${ZERO}","placement":{}`);
    const r = decodeStepRecord(text);
    expect(r.placement).toEqual({});
    expect(encodeStepRecord(r)).toBe(text);
  });

  it("decode errors name the field", () => {
    const base = fixture("step-pending");
    expect(decodeFailure(() => decodeStepRecord(base.replace('"status":"pending"', '"status":"bogus"'))).detail).toBe(
      'step record: field "status": unknown value "bogus"',
    );
    expect(decodeFailure(() => decodeStepRecord(base.replace('"args_json":[]', '"args_json":{}'))).detail).toMatch(/^step record: field "args_json": expected a JSON array/);
    expect(decodeFailure(() => decodeStepRecord(base.replace('"attempt":0', '"attempt":-1'))).detail).toMatch(/^step record: field "attempt":/);
    expect(decodeFailure(() => decodeStepRecord(base.replace('"fn_name":"main.A",', ""))).detail).toBe('step record: field "fn_name": missing');
    expect(decodeFailure(() => decodeStepRecord(base.replace('"added_at":"2026-05-01T10:00:00Z"', '"added_at":"yesterday"'))).detail).toMatch(
      /^step record: field "added_at": not an RFC 3339 time/,
    );
    expect(decodeFailure(() => decodeStepRecord(base.replace('"attempt":0', '"attempt":0,"bp_before":"half"'))).detail).toBe(
      'step record: field "bp_before": unknown value "half"',
    );
    expect(decodeFailure(() => decodeStepRecord(base.replace('"attempt":0', '"attempt":0,"deps":[1]'))).detail).toMatch(/^step record: field "deps": expected an array of strings/);
    expect(decodeFailure(() => decodeStepRecord(base.replace('"attempt":0', '"attempt":0,"placement":{"mode":"far"}'))).detail).toBe(
      'step record: field "placement.mode": unknown value "far"',
    );
    expect(decodeFailure(() => decodeStepRecord("{not json")).detail).toMatch(/^step record: invalid JSON/);
  });

  it("decodes from UTF-8 bytes", () => {
    const text = fixture("step-full");
    expect(decodeStepRecord(new TextEncoder().encode(text))).toEqual(decodeStepRecord(text));
  });

  it("encode refuses what has no wire form, naming the field", () => {
    const r = decodeStepRecord(fixture("step-pending"));
    expect(() => encodeStepRecord({ ...r, argsJson: '{"a":1}' })).toThrow(/step record: field "args_json": expected a JSON array/);
    expect(() => encodeStepRecord({ ...r, argsJson: "[1," })).toThrow(/step record: field "args_json": not valid JSON/);
    expect(() => encodeStepRecord({ ...r, stepId: "" })).toThrow(/field "step_id": must not be empty/);
    expect(() => encodeStepRecord({ ...r, attempt: 1.5 })).toThrow(/field "attempt"/);
  });
});

describe("extensions of ebind for TypeScript (fields ebind for Go ignores)", () => {
  it("a step's signal timeout and wait start are written last, in ns and RFC 3339, and omitted when unset", () => {
    const r = decodeStepRecord(fixture("step-pending"));
    expect(encodeStepRecord(r)).not.toMatch(/signal_timeout|signal_wait_since/);
    const text = encodeStepRecord({ ...r, signalTimeoutMs: 1500, signalWaitSince: new Date("2026-05-01T10:00:00.250Z") });
    expect(text.endsWith(',"signal_timeout":1500000000,"signal_wait_since":"2026-05-01T10:00:00.25Z"}')).toBe(true);
    expect(decodeStepRecord(text)).toMatchObject({ signalTimeoutMs: 1500, signalWaitSince: new Date("2026-05-01T10:00:00.250Z") });
    expect(() => encodeStepRecord({ ...r, signalTimeoutMs: Number.NaN })).toThrow(/field "signal_timeout"/);
  });

  it("an event's step_added_at is written last and omitted when unset", () => {
    const base = { kind: "completed" as const, dagId: "d", stepId: "s", status: "done" as const };
    expect(encodeDagEvent(base)).toBe('{"kind":"completed","dag_id":"d","step_id":"s","status":"done"}');
    const text = encodeDagEvent({ ...base, stepAddedAt: new Date("2026-05-01T10:00:00Z") });
    expect(text).toBe('{"kind":"completed","dag_id":"d","step_id":"s","status":"done","step_added_at":"2026-05-01T10:00:00Z"}');
    expect(decodeDagEvent(text).stepAddedAt).toEqual(new Date("2026-05-01T10:00:00Z"));
  });

  it("an event's result (extension, issue 14) is raw JSON written last, read back exactly; invalid JSON is refused", () => {
    const base = { kind: "completed" as const, dagId: "d", stepId: "s", status: "done" as const };
    const text = encodeDagEvent({ ...base, result: `{"n":${BIG}}` });
    expect(text).toBe(`{"kind":"completed","dag_id":"d","step_id":"s","status":"done","result":{"n":${BIG}}}`);
    expect(decodeDagEvent(text).result).toBe(`{"n":${BIG}}`);
    expect(decodeDagEvent(encodeDagEvent({ ...base, result: "null" })).result).toBe("null");
    expect(decodeDagEvent(encodeDagEvent(base)).result).toBeUndefined();
    expect(() => encodeDagEvent({ ...base, result: "{oops" })).toThrow(/field "result"/);
  });
});

describe("golden fixtures: placement", () => {
  it("round-trips and omits empty members", () => {
    expect(encodePlacement({ mode: "direct", target: "w1" })).toBe('{"mode":"direct","target":"w1"}');
    expect(decodePlacement('{"mode":"follow_target_of","step_id":"a"}')).toStrictEqual({ mode: "follow_target_of", stepId: "a" });
    expect(encodePlacement({})).toBe("{}");
    expect(() => encodePlacement({ mode: "far" as never })).toThrow(/placement: field "mode"/);
  });
});

describe("golden fixtures: signal record (reference §2.6.10)", () => {
  it("payload passes through raw; a 39-digit integer survives", () => {
    const text = fixture("signal");
    const s = decodeSignalRecord(text);
    expect(s).toStrictEqual({ dagId: "dag-7", name: "approved by ops/α", payload: `{"by":"ana","n":${BIG}}`, deliveredAt: new Date("2026-05-01T10:02:30.500Z") });
    expect(encodeSignalRecord(s)).toBe(text);
  });

  it("a null payload, a missing payload and an empty payload all read/write as null", () => {
    const text = fixture("signal-null");
    const s = decodeSignalRecord(text);
    expect(s.payload).toBe("null");
    expect(encodeSignalRecord(s)).toBe(text);
    expect(decodeSignalRecord(text.replace('"payload":null,', "")).payload).toBe("null");
    expect(encodeSignalRecord({ ...s, payload: "" })).toBe(text);
  });
});

describe("golden fixtures: events (reference §2.6.9)", () => {
  const cases: [string, DagEvent][] = [
    ["event-completed-done", { kind: "completed", dagId: "d1", stepId: "a", status: "done" }],
    ["event-completed-failed", { kind: "completed", dagId: "d1", stepId: "a", status: "failed", errorKind: "handler", errorMessage: "boom" }],
    ["event-completed-skipped", { kind: "completed", dagId: "d1", stepId: "b", status: "skipped" }],
    ["event-step-added", { kind: "step_added", dagId: "d1", stepId: "dyn-1" }],
    ["event-resumed", { kind: "resumed", dagId: "d1", stepId: "d1" }],
    ["event-bp-hit", { kind: "bp_hit", dagId: "d1", stepId: "b", bpPosition: "before", bpLabels: ["review", "qa"] }],
    ["event-bp-resumed", { kind: "bp_resumed", dagId: "d1", stepId: "b", bpPosition: "after", bpLabels: ["review"] }],
    ["event-signal", { kind: "signal", dagId: "d1", stepId: "d1", signalName: "approved" }],
  ];
  it.each(cases)("%s", (name, expected) => {
    const text = fixture(name);
    const e = decodeDagEvent(text);
    expect(e).toStrictEqual(expected);
    expect(encodeDagEvent(e)).toBe(text);
  });

  it("rejects an unknown kind", () => {
    expect(decodeFailure(() => decodeDagEvent('{"kind":"exploded","dag_id":"d","step_id":"s"}')).detail).toBe('dag event: field "kind": unknown value "exploded"');
  });
});

describe("argument placeholders (reference §2.6.8, §6.6)", () => {
  it("TestRef_MarshalUnmarshal: ref envelope without default", () => {
    const text = fixture("ref-required");
    expect(encodeRefArg({ stepId: "a", mode: "required" })).toBe(text);
    expect(parseArgs(`[${text}]`)).toStrictEqual([{ kind: "ref", ref: { stepId: "a", mode: "required" } }]);
  });

  it("ref envelope with a default; a default of null is kept", () => {
    const text = fixture("ref-default");
    expect(encodeRefArg({ stepId: "b", mode: "or_default", defaultJson: '"fallback"' })).toBe(text);
    expect(parseArgs(`[${text}]`)).toStrictEqual([{ kind: "ref", ref: { stepId: "b", mode: "or_default", defaultJson: '"fallback"' } }]);
    const withNull = '{"__ebind_ref__":"__ebind_ref__","step_id":"b","mode":"or_default","default":null}';
    const [slot] = parseArgs(`[${withNull}]`);
    expect(slot).toStrictEqual({ kind: "ref", ref: { stepId: "b", mode: "or_default", defaultJson: "null" } });
    expect(encodeArgs([slot as ArgSlot])).toBe(`[${withNull}]`);
  });

  it("signal envelope", () => {
    const text = fixture("signal-arg");
    expect(encodeSignalArg({ name: "approved" })).toBe(text);
    expect(parseArgs(`[${text}]`)).toStrictEqual([{ kind: "signal", signal: { name: "approved" } }]);
  });

  it("TestIsRef_NegativeCases: 42, \"hello\", {\"foo\":\"bar\"}, [1,2,3], null, true are literals", () => {
    const args = '[42,"hello",{"foo":"bar"},[1,2,3],null,true]';
    expect(parseArgs(args).map((s) => s.kind)).toEqual(["literal", "literal", "literal", "literal", "literal", "literal"]);
    expect(encodeArgs(parseArgs(args))).toBe(args);
  });

  it("element-level detection (reference §8.3 item 3 fixed): marker text inside a literal is a literal", () => {
    const args = [
      '"{\\"__ebind_ref__\\":\\"__ebind_ref__\\"}"', // a string containing the quoted marker
      '{"note":"__ebind_ref__"}',
      '{"nested":{"__ebind_ref__":"__ebind_ref__","step_id":"a","mode":"required"}}', // nested: not a dependency
      '{"__ebind_ref__":"something else","step_id":"a"}', // member present, not the marker
      '["__ebind_signal__"]',
    ];
    const slots = parseArgs(`[${args.join(",")}]`);
    expect(slots).toStrictEqual(args.map((raw) => ({ kind: "literal", raw })));
  });

  it("a 39-digit literal and whitespace inside an element pass through byte for byte", () => {
    const slots = parseArgs(`[ ${BIG} , {"a" : 1e400} ]`);
    expect(slots).toStrictEqual([
      { kind: "literal", raw: BIG },
      { kind: "literal", raw: '{"a" : 1e400}' },
    ]);
    expect(encodeArgs(slots)).toBe(`[${BIG},{"a" : 1e400}]`);
  });

  it("the signal marker is checked before the ref marker (as Go)", () => {
    const both = '{"__ebind_signal__":"__ebind_signal__","__ebind_ref__":"__ebind_ref__","name":"s","step_id":"a","mode":"required"}';
    expect(parseArgs(`[${both}]`)).toStrictEqual([{ kind: "signal", signal: { name: "s" } }]);
  });

  it("malformed placeholders and arrays are decode errors naming the element and field", () => {
    expect(decodeFailure(() => parseArgs('[1,{"__ebind_ref__":"__ebind_ref__","step_id":"a","mode":"sometimes"}]')).detail).toBe(
      'args[1]: ref placeholder: field "mode": unknown RefMode "sometimes"',
    );
    expect(decodeFailure(() => parseArgs('[{"__ebind_ref__":"__ebind_ref__","mode":"required"}]')).detail).toBe('args[0]: ref placeholder: field "step_id": missing');
    expect(decodeFailure(() => parseArgs('[{"__ebind_signal__":"__ebind_signal__","name":""}]')).detail).toBe(
      'args[0]: signal placeholder: field "name": must not be empty',
    );
    expect(decodeFailure(() => parseArgs('{"a":1}')).detail).toMatch(/^args: invalid JSON at position 0: expected a JSON array/);
    expect(decodeFailure(() => parseArgs("[1,]")).detail).toMatch(/^args: invalid JSON/);
  });

  it("encode errors", () => {
    expect(() => encodeRefArg({ stepId: "", mode: "required" })).toThrow(EbindError);
    expect(() => encodeRefArg({ stepId: "a", mode: "maybe" as never })).toThrow(/ref placeholder: field "mode"/);
    expect(() => encodeRefArg({ stepId: "a", mode: "or_default", defaultJson: "{" })).toThrow(/field "default": not valid JSON/);
    expect(() => encodeSignalArg({ name: "" })).toThrow(/signal placeholder: field "name": must not be empty/);
    expect(() => encodeArgs([{ kind: "literal", raw: "1 2" }])).toThrow(/args: field "\[0\]": not valid JSON/);
  });
});

describe("step results (reference §2.6.11, §8.3 item 4)", () => {
  it("empty bytes (a Go error-only handler), whitespace and absence read as null", () => {
    expect(decodeStepResult(new Uint8Array())).toBe("null");
    expect(decodeStepResult("  ")).toBe("null");
    expect(decodeStepResult(undefined)).toBe("null");
  });
  it("raw results pass through", () => {
    expect(decodeStepResult(new TextEncoder().encode(`{"Name":"alice","n":${BIG}}`))).toBe(`{"Name":"alice","n":${BIG}}`);
    expect(decodeFailure(() => decodeStepResult("{")).detail).toMatch(/^step result: invalid JSON/);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const label = fc.string({ minLength: 1, maxLength: 8 });
const optText = fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined });
const date = fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true });
const optDate = fc.option(date, { nil: undefined });
const policy = fc.option(
  fc.record({
    initialIntervalMs: fc.integer({ min: 0, max: 100_000 }),
    backoffCoefficient: fc.constantFrom(0, 1, 1.5, 2, 3.25),
    maximumIntervalMs: fc.integer({ min: 0, max: 1_000_000 }),
    maximumAttempts: fc.integer({ min: 0, max: 20 }),
    nonRetryableErrorKinds: fc.option(fc.array(label, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  }),
  { nil: undefined },
);
const slot: fc.Arbitrary<ArgSlot> = fc.oneof(
  fc.jsonValue().map((v) => ({ kind: "literal" as const, raw: JSON.stringify(v) })),
  fc.record({ stepId: id, mode: fc.constant("required" as const) }).map((ref) => ({ kind: "ref" as const, ref })),
  fc.record({ stepId: id, mode: fc.constant("or_default" as const), defaultJson: fc.jsonValue().map((v) => JSON.stringify(v)) }).map((ref) => ({ kind: "ref" as const, ref })),
  fc.record({ name: label }).map((signal) => ({ kind: "signal" as const, signal })),
);
const stepRecord: fc.Arbitrary<StepRecord> = fc
  .record({
    dagId: id,
    stepId: id,
    fnName: fc.string({ minLength: 1, maxLength: 20 }),
    argsJson: fc.array(slot, { maxLength: 5 }).map(encodeArgs),
    deps: fc.array(id, { maxLength: 3 }),
    optionalDeps: fc.array(id, { maxLength: 3 }),
    status: fc.constantFrom("pending", "running", "done", "failed", "skipped", "canceled" as const),
    attempt: fc.nat({ max: 1000 }),
    errorKind: optText,
    errorMessage: optText,
    optional: fc.boolean(),
    held: fc.boolean(),
    heldAt: optDate,
    breakBefore: fc.array(label, { maxLength: 3 }),
    breakAfter: fc.array(label, { maxLength: 3 }),
    bpBefore: fc.constantFrom(undefined, "blocked" as const, "released" as const),
    bpAfter: fc.constantFrom(undefined, "blocked" as const, "released" as const),
    bpBlockedAt: optDate,
    waitSignals: fc.array(label, { maxLength: 3 }),
    policy,
    placement: fc.option(
      fc.record({ mode: fc.constantFrom(undefined, "direct" as const, "colocate_with" as const, "follow_target_of" as const, "colocate_here" as const), target: optText, stepId: fc.option(id, { nil: undefined }) }),
      { nil: undefined },
    ),
    workerId: optText,
    addedAt: date,
    startedAt: optDate,
    finishedAt: optDate,
    signalTimeoutMs: fc.option(fc.integer({ min: 1, max: 2_147_483_647 }), { nil: undefined }),
    signalWaitSince: optDate,
  })
  .map((r) => r as StepRecord);

const event: fc.Arbitrary<DagEvent> = fc.record({
  kind: fc.constantFrom("completed", "step_added", "resumed", "bp_hit", "bp_resumed", "signal" as const),
  dagId: id,
  stepId: id,
  status: fc.constantFrom(undefined, "done" as const, "failed" as const, "skipped" as const),
  errorKind: optText,
  errorMessage: optText,
  bpPosition: fc.constantFrom(undefined, "before" as const, "after" as const),
  bpLabels: fc.option(fc.array(label, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  signalName: optText,
  stepAddedAt: optDate,
});

describe("properties", () => {
  it("random step records round-trip: decode(encode(r)) equals r, and encode is a fixed point", () => {
    fc.assert(
      fc.property(stepRecord, (r) => {
        const text = encodeStepRecord(r);
        const back = decodeStepRecord(text);
        expect(back).toEqual(r);
        expect(encodeStepRecord(back)).toBe(text);
        expect(encodeArgs(parseArgs(back.argsJson))).toBe(r.argsJson);
      }),
      { numRuns: 300 },
    );
  });

  it("random events round-trip", () => {
    fc.assert(
      fc.property(event, (e) => {
        const text = encodeDagEvent(e);
        expect(decodeDagEvent(text)).toEqual(e);
        expect(encodeDagEvent(decodeDagEvent(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it("parseArgs/encodeArgs round-trip random argument lists", () => {
    fc.assert(
      fc.property(fc.array(slot, { maxLength: 6 }), (slots) => {
        const text = encodeArgs(slots);
        expect(parseArgs(text)).toEqual(slots);
      }),
    );
  });
});
