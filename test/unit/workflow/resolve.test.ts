import { describe, expect, it } from "vitest";
import { WorkflowError } from "../../../src/workflow/model/errors.js";
import { resolveArgs, type ResolveLookup } from "../../../src/workflow/plan/index.js";
import type { StepStatus } from "../../../src/workflow/model/records.js";
import { args, lit, ref, refOr, sig } from "./helpers.js";

const BIG = "123456789012345678901234567890123456789";

function lookup(statuses: Record<string, StepStatus>, results: Record<string, string> = {}, signals: Record<string, string> = {}): ResolveLookup {
  return {
    status: (id) => statuses[id],
    result: (id) => results[id],
    signal: (name) => signals[name],
  };
}

function failure(fn: () => unknown): WorkflowError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WorkflowError);
    expect((e as WorkflowError).code).toBe("invalid");
    return e as WorkflowError;
  }
  throw new Error("expected a WorkflowError");
}

describe("reference §6.6 ref_test.go: ResolveArgs (§3.13)", () => {
  it("TestResolveArgs_Literals: literals unchanged, byte for byte (a 39-digit integer survives)", () => {
    const a = `[1,"two",{"three" : 3},${BIG},1e400]`;
    expect(resolveArgs(a, lookup({}))).toEqual({ skip: false, payload: `[1,"two",{"three" : 3},${BIG},1e400]` });
  });

  it("TestResolveArgs_Required_Success", () => {
    expect(resolveArgs(args(ref("a")), lookup({ a: "done" }, { a: '"hello"' }))).toEqual({ skip: false, payload: '["hello"]' });
  });

  it("TestResolveArgs_Required_UpstreamFailed_Cascades", () => {
    for (const st of ["failed", "skipped", "canceled"] as const) {
      expect(resolveArgs(args(lit("1"), ref("a")), lookup({ a: st }))).toEqual({ skip: true });
    }
  });

  it("TestResolveArgs_OrDefault_UpstreamFailed_Substitutes", () => {
    expect(resolveArgs(args(refOr("a", "99")), lookup({ a: "failed" }))).toEqual({ skip: false, payload: "[99]" });
  });

  it("TestResolveArgs_OrDefault_NoDefault_NullFallback", () => {
    expect(resolveArgs(args(refOr("a")), lookup({ a: "skipped" }))).toEqual({ skip: false, payload: "[null]" });
  });

  it("TestResolveArgs_UpstreamDoneButMissingResult: substitutes null (reference §8.3 item 4, fixed)", () => {
    expect(resolveArgs(args(ref("a")), lookup({ a: "done" }))).toEqual({ skip: false, payload: "[null]" });
    expect(resolveArgs(args(ref("a")), lookup({ a: "done" }, { a: "" }))).toEqual({ skip: false, payload: "[null]" });
  });

  it("TestResolveArgs_UpstreamNotTerminal", () => {
    expect(failure(() => resolveArgs(args(ref("a")), lookup({ a: "running" }))).message).toBe('workflow: ResolveArgs: upstream "a" not terminal (status=running)');
    expect(failure(() => resolveArgs(args(refOr("a")), lookup({ a: "pending" }))).message).toBe('workflow: ResolveArgs: upstream "a" not terminal (status=pending)');
    expect(failure(() => resolveArgs(args(ref("ghost")), lookup({}))).message).toBe('workflow: ResolveArgs: upstream "ghost" not terminal (status=)');
  });

  it("TestResolveArgs_MixedLiteralsAndRefs", () => {
    const a = args(lit("1"), ref("a"), lit('"literal"'), refOr("b", '"fallback"'));
    expect(resolveArgs(a, lookup({ a: "done", b: "failed" }, { a: "42" }))).toEqual({ skip: false, payload: '[1,42,"literal","fallback"]' });
  });
});

describe("ResolveArgs: signals and edge cases", () => {
  it("a delivered signal's payload is substituted raw; an empty one is null", () => {
    const a = args(sig("approve"), sig("empty"));
    expect(resolveArgs(a, lookup({}, {}, { approve: `{"n":${BIG}}`, empty: "" }))).toEqual({ skip: false, payload: `[{"n":${BIG}},null]` });
  });

  it("a signal not delivered is an error", () => {
    expect(failure(() => resolveArgs(args(sig("approve")), lookup({}))).message).toBe('workflow: ResolveArgs: signal "approve" not delivered');
  });

  it("a done upstream wins over the or_default default", () => {
    expect(resolveArgs(args(refOr("a", "99")), lookup({ a: "done" }, { a: "5" }))).toEqual({ skip: false, payload: "[5]" });
  });

  it("empty and null args resolve to []", () => {
    expect(resolveArgs("", lookup({}))).toEqual({ skip: false, payload: "[]" });
    expect(resolveArgs("null", lookup({}))).toEqual({ skip: false, payload: "[]" });
  });

  it("a literal containing the ref marker is not resolved (reference §8.3 item 3, fixed)", () => {
    const a = '["__ebind_ref__",{"k":"\\"__ebind_ref__\\""}]';
    expect(resolveArgs(a, lookup({}))).toEqual({ skip: false, payload: a });
  });

  it("malformed args are WorkflowError invalid with the decode error as cause", () => {
    const err = failure(() => resolveArgs('[{"__ebind_ref__":"__ebind_ref__","step_id":"a","mode":"x"}]', lookup({})));
    expect(err.message).toBe('workflow: ResolveArgs: args[0]: ref placeholder: field "mode": unknown RefMode "x"');
    expect(err.cause).toBeInstanceOf(Error);
  });
});
