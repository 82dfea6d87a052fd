import { describe, expect, it } from "vitest";
import { WorkflowError, isWorkflowError } from "../../../src/workflow/model/errors.js";
import {
  addStep,
  allStepsTerminal,
  applyCompletion,
  blockedAtBefore,
  canPause,
  canResume,
  cascadeSkips,
  deriveFinalStatus,
  halfWritten,
  hasInFlightSteps,
  holdingAtAfter,
  readyToRun,
  terminal,
  waitingOnSignals,
  type DagState,
} from "../../../src/workflow/plan/index.js";
import type { DagStatus, StepStatus } from "../../../src/workflow/model/records.js";
import { T0, T1, args, lit, ref, refOr, sig, signal, state, step } from "./helpers.js";

const FAIL = { status: "failed", errorKind: "handler", errorMessage: "boom" } as const;

function statusOf(s: DagState, id: string): StepStatus | undefined {
  return s.steps.get(id)?.status;
}

describe("reference §6.5 state_test.go", () => {
  it("TestState_MarkDone_UnlockDependent", () => {
    const s0 = state([step("a", { status: "running" }), step("b", { deps: ["a"], argsJson: args(ref("a")) })]);
    expect(readyToRun(s0)).toEqual([]);
    const { state: s1, changed } = applyCompletion(s0, "a", { status: "done" }, T1);
    expect(changed).toEqual(["a"]);
    expect(s1.steps.get("a")).toMatchObject({ status: "done", finishedAt: T1 });
    expect(readyToRun(s1)).toEqual(["b"]);
    expect(s0.steps.get("a")?.status).toBe("running"); // input not mutated
  });

  it("TestState_MarkFailed_CascadesRequired (transitive)", () => {
    const s0 = state([step("a", { status: "running" }), step("b", { deps: ["a"], argsJson: args(ref("a")) }), step("c", { deps: ["b"], argsJson: args(ref("b")) })]);
    const { state: s1, changed } = applyCompletion(s0, "a", FAIL, T1);
    expect(changed).toEqual(["a", "b", "c"]);
    expect([statusOf(s1, "b"), statusOf(s1, "c")]).toEqual(["skipped", "skipped"]);
    expect(s1.steps.get("c")?.finishedAt).toEqual(T1);
    expect(changed.filter((id) => statusOf(s1, id) === "skipped")).toHaveLength(2);
  });

  it("TestState_MarkFailed_RefOrDefaultDoesNotCascade", () => {
    const s0 = state([step("a", { status: "running" }), step("b", { deps: ["a"], argsJson: args(refOr("a", "0")) })]);
    const { state: s1, changed } = applyCompletion(s0, "a", FAIL, T1);
    expect(changed).toEqual(["a"]);
    expect(statusOf(s1, "b")).toBe("pending");
    expect(readyToRun(s1)).toEqual(["b"]);
  });

  it("TestState_MarkFailed_IsIdempotent", () => {
    const s0 = state([step("a", { status: "failed", errorKind: "handler", errorMessage: "first", finishedAt: T0 })]);
    const r = applyCompletion(s0, "a", { ...FAIL, errorMessage: "second" }, T1);
    expect(r.changed).toEqual([]);
    expect(r.state).toBe(s0);
    expect(r.state.steps.get("a")).toMatchObject({ errorMessage: "first", finishedAt: T0 });
  });

  it("TestState_AddStep_Dynamic", () => {
    const s0 = state([step("a", { status: "done" })]);
    const s1 = addStep(s0, step("dyn", { deps: ["a"] }));
    expect(statusOf(s1, "dyn")).toBe("pending");
    expect(readyToRun(s1)).toEqual(["dyn"]);
    expect(s0.steps.has("dyn")).toBe(false);
  });

  it("TestState_AddStep_Duplicate", () => {
    const s0 = state([step("a")]);
    const err = (() => {
      try {
        addStep(s0, step("a"));
      } catch (e) {
        return e;
      }
    })();
    expect(isWorkflowError(err, "duplicate_step")).toBe(true);
    expect((err as WorkflowError).message).toBe('workflow: duplicate step ID "a"');
  });

  const terminalCases: [string, StepStatus[], boolean[], DagStatus, { status: DagStatus; final: boolean }][] = [
    ["TestState_Terminal_AllDone", ["done", "done"], [false, false], "running", { status: "done", final: true }],
    ["TestState_Terminal_MandatoryFailed", ["done", "failed"], [false, false], "running", { status: "failed", final: true }],
    ["TestState_Terminal_OptionalFailed_DAGIsDone", ["done", "failed"], [false, true], "running", { status: "done", final: true }],
    ["TestState_Terminal_StillRunning", ["done", "running"], [false, false], "running", { status: "running", final: false }],
    ["TestState_Terminal_Canceled", ["done", "canceled"], [false, false], "canceled", { status: "canceled", final: true }],
    ["TestState_Terminal_Paused_AllStepsTerminal", ["done", "done"], [false, false], "paused", { status: "running", final: false }],
    ["TestState_Terminal_Pausing_AllStepsTerminal", ["done", "failed"], [false, false], "pausing", { status: "running", final: false }],
    ["TestState_Terminal_Paused_SomeStepsRunning", ["done", "running"], [false, false], "paused", { status: "running", final: false }],
    ["Terminal: mandatory skipped ⇒ failed", ["done", "skipped"], [false, false], "running", { status: "failed", final: true }],
    ["Terminal: canceled meta with a step still running ⇒ running", ["canceled", "running"], [false, false], "canceled", { status: "running", final: false }],
    ["Terminal: zero steps ⇒ running", [], [], "running", { status: "running", final: false }],
  ];
  it.each(terminalCases)("%s", (_name, statuses, optional, dag, expected) => {
    const s = state(
      statuses.map((st, i) => step(`s${i}`, { status: st, optional: optional[i] ?? false })),
      { status: dag },
    );
    expect(terminal(s)).toEqual(expected);
  });

  it("TestState_ReadyToRun_SkipsWithUnfinishedDep", () => {
    expect(readyToRun(state([step("a", { status: "running" }), step("b", { deps: ["a"] })]))).toEqual([]);
  });

  it("TestState_After_CascadesOnFail (dep without a Ref)", () => {
    const s0 = state([step("a", { status: "running" }), step("b", { deps: ["a"], argsJson: args(lit("1")) })]);
    expect(statusOf(applyCompletion(s0, "a", FAIL, T1).state, "b")).toBe("skipped");
  });

  it("TestState_AfterAny_DoesNotCascadeOnFail", () => {
    const s0 = state([step("a", { status: "running" }), step("b", { optionalDeps: ["a"] })]);
    const s1 = applyCompletion(s0, "a", FAIL, T1).state;
    expect(statusOf(s1, "b")).toBe("pending");
    expect(readyToRun(s1)).toEqual(["b"]);
  });

  it("TestState_AfterAny_WaitsForTerminal", () => {
    expect(readyToRun(state([step("a", { status: "running" }), step("b", { optionalDeps: ["a"] })]))).toEqual([]);
  });

  it("TestState_After_TerminalParent_EnablesRun", () => {
    expect(readyToRun(state([step("a", { status: "done" }), step("b", { deps: ["a"] })]))).toEqual(["b"]);
  });

  it("TestState_Mixed_After_And_RefOrDefault", () => {
    const steps = [step("a", { status: "running" }), step("x", { status: "running" }), step("c", { deps: ["a", "x"], argsJson: args(refOr("a", "7")) })];
    // The or_default dep failing does not cascade…
    const s1 = applyCompletion(state(steps), "a", FAIL, T1).state;
    expect(statusOf(s1, "c")).toBe("pending");
    // …the After dep failing does.
    const s2 = applyCompletion(s1, "x", FAIL, T1).state;
    expect(statusOf(s2, "c")).toBe("skipped");
  });

  it("TestState_ReadyToRun_FanIn", () => {
    const steps = [step("a", { status: "done" }), step("b", { status: "running" }), step("c", { deps: ["a", "b"], argsJson: args(ref("a"), ref("b")) })];
    expect(readyToRun(state(steps))).toEqual([]);
    expect(readyToRun(applyCompletion(state(steps), "b", { status: "done" }, T1).state)).toEqual(["c"]);
  });

  it("TestState_MarkFailed_StoresErrorMessage", () => {
    const msg = "validation: the email field is missing ".repeat(10);
    const s1 = applyCompletion(state([step("a", { status: "running" })]), "a", { status: "failed", errorKind: "validation", errorMessage: msg }, T1).state;
    expect(s1.steps.get("a")).toMatchObject({ status: "failed", errorKind: "validation", errorMessage: msg, finishedAt: T1 });
  });

  it.each([
    ["TestState_HasInFlightSteps_Running", ["done", "running"], true],
    ["TestState_HasInFlightSteps_NoneRunning", ["done", "pending"], false],
    ["TestState_HasInFlightSteps_AllDone", ["done", "done"], false],
  ] as const)("%s", (_n, statuses, expected) => {
    expect(hasInFlightSteps(state(statuses.map((st, i) => step(`s${i}`, { status: st }))))).toBe(expected);
  });

  it.each([
    ["TestState_CanPause_WhenRunning", "running", true],
    ["TestState_CanPause_WhenPaused", "paused", false],
    ["TestState_CanPause_WhenTerminal", "done", false],
  ] as const)("%s", (_n, dag, expected) => {
    expect(canPause(state([step("a")], { status: dag }))).toBe(expected);
  });

  it.each([
    ["TestState_CanResume_WhenPaused", "paused", true],
    ["TestState_CanResume_WhenRunning", "running", false],
    ["TestState_CanResume_WhenTerminal", "failed", false],
    ["TestState_CanResume_WhenPausing", "pausing", true],
  ] as const)("%s", (_n, dag, expected) => {
    expect(canResume(state([step("a")], { status: dag }))).toBe(expected);
  });

  it.each([
    ["TestState_AllStepsTerminal_AllDone", ["done", "done"], true],
    ["TestState_AllStepsTerminal_FailedIsTerminal", ["done", "failed"], true],
    ["TestState_AllStepsTerminal_SkippedIsTerminal", ["skipped", "done"], true],
    ["TestState_AllStepsTerminal_WithRunning", ["done", "running"], false],
    ["TestState_AllStepsTerminal_WithPending", ["done", "pending"], false],
    ["TestState_AllStepsTerminal_Empty", [], false],
  ] as const)("%s", (_n, statuses, expected) => {
    expect(allStepsTerminal(state(statuses.map((st, i) => step(`s${i}`, { status: st }))))).toBe(expected);
  });

  it("halfWritten (issue 12): fewer step records than the meta's submitSteps; absent submitSteps (Go) is complete", () => {
    const two = state([step("a"), step("b")]);
    expect(halfWritten(two)).toBe(false);
    expect(halfWritten({ ...two, meta: { ...two.meta, submitSteps: 2 } })).toBe(false);
    expect(halfWritten({ ...two, meta: { ...two.meta, submitSteps: 3 } })).toBe(true);
    expect(halfWritten({ ...two, meta: { ...two.meta, submitSteps: 1 } })).toBe(false); // dynamic steps added since
  });

  it.each([
    ["TestState_DeriveFinalStatus_AllDone", ["done", "done"], [false, false], "done"],
    ["TestState_DeriveFinalStatus_MandatoryFailed", ["done", "failed"], [false, false], "failed"],
    ["TestState_DeriveFinalStatus_MandatorySkipped", ["done", "skipped"], [false, false], "failed"],
    ["TestState_DeriveFinalStatus_OptionalFailed", ["done", "failed"], [false, true], "done"],
    ["DeriveFinalStatus: canceled steps are not failures", ["done", "canceled"], [false, false], "done"],
  ] as const)("%s", (_n, statuses, optional, expected) => {
    expect(deriveFinalStatus(state(statuses.map((st, i) => step(`s${i}`, { status: st, optional: optional[i] }))))).toBe(expected);
  });

  // TestState_PausedAt_JSON is in codec.test.ts.
});

describe("readiness (reference §3.12)", () => {
  it("a held step is not ready (pause fence)", () => {
    expect(readyToRun(state([step("a", { held: true }), step("b")]))).toEqual(["b"]);
  });

  it("ready ids are sorted", () => {
    expect(readyToRun(state([step("c"), step("a"), step("b")]))).toEqual(["a", "b", "c"]);
  });

  it("never returns a non-pending step", () => {
    const st: StepStatus[] = ["pending", "running", "done", "failed", "skipped", "canceled"];
    expect(readyToRun(state(st.map((s) => step(s, { status: s }))))).toEqual(["pending"]);
  });

  it("before-breakpoint: armed ⇒ blocked; not armed ⇒ ready; released ⇒ ready; the advisory blocked mark is ignored", () => {
    const b = step("b", { breakBefore: ["review", "qa"] });
    expect(readyToRun(state([b], { active: ["qa"] }))).toEqual([]);
    expect(blockedAtBefore(state([b], { active: ["qa"] }))).toEqual(["b"]);
    expect(readyToRun(state([b], { active: ["other"] }))).toEqual(["b"]);
    expect(readyToRun(state([b]))).toEqual(["b"]);
    expect(readyToRun(state([{ ...b, bpBefore: "released" }], { active: ["qa"] }))).toEqual(["b"]);
    expect(blockedAtBefore(state([{ ...b, bpBefore: "released" }], { active: ["qa"] }))).toEqual([]);
    expect(readyToRun(state([{ ...b, bpBefore: "blocked" }], { active: ["qa"] }))).toEqual([]);
  });

  it("blockedAtBefore needs deps satisfied and ignores held and signals", () => {
    const s = state(
      [step("a", { status: "running" }), step("b", { deps: ["a"], breakBefore: ["r"] }), step("c", { breakBefore: ["r"], held: true, waitSignals: ["go"] })],
      { active: ["r"] },
    );
    expect(blockedAtBefore(s)).toEqual(["c"]);
  });

  it("after-breakpoint: a done step with an armed after-label holds its dependents until released", () => {
    const a = step("a", { status: "done", breakAfter: ["inspect"] });
    const b = step("b", { deps: ["a"] });
    const c = step("c", { optionalDeps: ["a"] });
    expect(readyToRun(state([a, b, c], { active: ["inspect"] }))).toEqual([]);
    expect(holdingAtAfter(state([a, b, c], { active: ["inspect"] }))).toEqual(["a"]);
    expect(readyToRun(state([{ ...a, bpAfter: "released" }, b, c], { active: ["inspect"] }))).toEqual(["b", "c"]);
    expect(holdingAtAfter(state([{ ...a, bpAfter: "released" }, b, c], { active: ["inspect"] }))).toEqual([]);
    expect(readyToRun(state([a, b, c]))).toEqual(["b", "c"]);
    // Only a done step holds: a failed one with an armed after-label does not.
    expect(holdingAtAfter(state([{ ...a, status: "failed" }], { active: ["inspect"] }))).toEqual([]);
  });

  it("a leaf step's armed after-breakpoint holds nobody, so the DAG still finalises", () => {
    const s = state([step("a", { status: "done", breakAfter: ["x"] })], { active: ["x"] });
    expect(holdingAtAfter(s)).toEqual(["a"]);
    expect(terminal(s)).toEqual({ status: "done", final: true });
  });

  it("signals: absent ⇒ gated (waitingOnSignals), present ⇒ ready; every name needed", () => {
    const b = step("b", { waitSignals: ["approve", "budget"], argsJson: args(sig("approve")) });
    expect(readyToRun(state([b]))).toEqual([]);
    expect(waitingOnSignals(state([b]))).toEqual(["b"]);
    expect(readyToRun(state([b], { signals: [signal("approve")] }))).toEqual([]);
    const both = state([b], { signals: [signal("approve"), signal("budget")] });
    expect(readyToRun(both)).toEqual(["b"]);
    expect(waitingOnSignals(both)).toEqual([]);
  });

  it("waitingOnSignals requires deps satisfied", () => {
    const s = state([step("a", { status: "running" }), step("b", { deps: ["a"], waitSignals: ["go"] })]);
    expect(waitingOnSignals(s)).toEqual([]);
  });

  it("a dependency on a missing step is never satisfied", () => {
    expect(readyToRun(state([step("b", { deps: ["ghost"] })]))).toEqual([]);
    expect(readyToRun(state([step("b", { optionalDeps: ["ghost"] })]))).toEqual([]);
  });

  it("failed, skipped and canceled deps count as satisfied for readiness", () => {
    for (const st of ["failed", "skipped", "canceled"] as const) {
      expect(readyToRun(state([step("a", { status: st }), step("b", { deps: ["a"], argsJson: args(refOr("a")) })]))).toEqual(["b"]);
    }
  });
});

describe("cascade (reference §3.13)", () => {
  it("breadth-first, visiting running and pending steps; terminal ones untouched; or_default exempt", () => {
    const s = state([
      step("root", { status: "failed" }),
      step("b", { deps: ["root"], status: "running" }),
      step("c", { deps: ["root"] }),
      step("d", { deps: ["b"] }),
      step("e", { deps: ["c"], argsJson: args(refOr("c", '"x"')) }), // exempt from c
      step("f", { deps: ["root"], status: "done" }), // terminal: untouched
      step("g", { optionalDeps: ["root"] }), // optional: never cascades
      step("h", { deps: ["e"] }), // e is not skipped, so h stays
    ]);
    expect(cascadeSkips(s, "root")).toEqual(["b", "c", "d"]);
  });

  it("an exemption holds only for the exact step: the same step reached through another required dep is skipped", () => {
    const s = state([
      step("a", { status: "failed" }),
      step("b", { deps: ["a"] }),
      step("c", { deps: ["a", "b"], argsJson: args(refOr("a"), ref("b")) }),
    ]);
    expect(cascadeSkips(s, "a")).toEqual(["b", "c"]);
  });

  it("signal placeholders are never deps; gated steps are still skipped", () => {
    const s = state(
      [
        step("a", { status: "failed" }),
        step("b", { deps: ["a"], breakBefore: ["r"], waitSignals: ["a"], argsJson: args(sig("a")) }),
        step("c", { waitSignals: ["a"], argsJson: args(sig("a")) }),
      ],
      { active: ["r"] },
    );
    expect(cascadeSkips(s, "a")).toEqual(["b"]);
  });

  it("unknown step ⇒ step_not_found", () => {
    expect(() => cascadeSkips(state([step("a")]), "zz")).toThrow(expect.objectContaining({ code: "step_not_found" }));
  });

  it("a diamond skips each step once", () => {
    const s = state([step("a", { status: "failed" }), step("b", { deps: ["a"] }), step("c", { deps: ["a"] }), step("d", { deps: ["b", "c"] })]);
    expect(cascadeSkips(s, "a")).toEqual(["b", "c", "d"]);
  });
});

describe("applyCompletion: terminal status is never overwritten (reference §8.3 item 14, improved)", () => {
  it("done then failed: stays done, no cascade", () => {
    const s0 = state([step("a", { status: "done", finishedAt: T0 }), step("b", { deps: ["a"] })]);
    const r = applyCompletion(s0, "a", FAIL, T1);
    expect(r.changed).toEqual([]);
    expect(statusOf(r.state, "a")).toBe("done");
    expect(statusOf(r.state, "b")).toBe("pending");
  });

  it("failed then done: stays failed", () => {
    const s0 = state([step("a", { status: "failed" })]);
    expect(statusOf(applyCompletion(s0, "a", { status: "done" }, T1).state, "a")).toBe("failed");
  });

  it("skipped then failed: stays skipped without error fields, and the cascade still runs", () => {
    const s0 = state([step("a", { status: "skipped" }), step("b", { deps: ["a"] })]);
    const r = applyCompletion(s0, "a", FAIL, T1);
    expect(r.state.steps.get("a")).toMatchObject({ status: "skipped" });
    expect(r.state.steps.get("a")?.errorKind).toBeUndefined();
    expect(r.changed).toEqual(["b"]);
  });

  it("MarkDone is idempotent", () => {
    const s0 = state([step("a", { status: "done", finishedAt: T0 })]);
    const r = applyCompletion(s0, "a", { status: "done" }, T1);
    expect(r).toEqual({ state: s0, changed: [] });
  });

  it("MarkSkipped on a pending step cascades", () => {
    const s0 = state([step("a"), step("b", { deps: ["a"] })]);
    const r = applyCompletion(s0, "a", { status: "skipped" }, T1);
    expect(r.changed).toEqual(["a", "b"]);
    expect(r.state.steps.get("a")).toMatchObject({ status: "skipped", finishedAt: T1 });
  });

  it("unknown step ⇒ step_not_found", () => {
    expect(() => applyCompletion(state([step("a")]), "nope", { status: "done" }, T1)).toThrow(WorkflowError);
  });
});
