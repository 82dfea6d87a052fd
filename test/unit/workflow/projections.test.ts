/**
 * The pure projections an operator reads (src/workflow/plan/projections.ts, debug.ts): breakpoints
 * (reference §3.19, §6.13 TestComputeBreakpoints_*), signals (§3.21, §6.14 TestComputeSignals_*,
 * TestCountWaitingSteps_*), what a pending step waits on, and the debug report with its text layout
 * (§3.27, §6.12 TestDebug_*, TestDebugPrint_*).
 */
import { describe, expect, it } from "vitest";
import {
  computeBreakpoints,
  computeSignals,
  countBlocked,
  countWaitingSteps,
  dagState,
  debugDag,
  formatDebug,
  formatDuration,
  stepWaits,
  type DagState,
} from "../../../src/workflow/plan/index.js";
import type { DagStatus, StepRecord, StepStatus } from "../../../src/workflow/model/records.js";
import { T0, T1, meta, signal, state, step } from "./helpers.js";

/** T0 plus `ms`. */
const at = (ms: number): Date => new Date(T0.getTime() + ms);

function stepOf(s: DagState, id: string): StepRecord {
  const r = s.steps.get(id);
  if (!r) throw new Error(`no step ${id}`);
  return r;
}

describe("computeBreakpoints (reference §3.19)", () => {
  /** a/after blocked holding [b]; b/before armed but held by a's gate; c/before inactive; d/before released; e/before blocked without a mark yet. */
  const steps = [
    step("a", { status: "done", breakAfter: ["X"], bpAfter: "blocked", bpBlockedAt: T1 }),
    step("b", { deps: ["a"], breakBefore: ["X"] }),
    step("c", { breakBefore: ["Z"] }),
    step("d", { breakBefore: ["Y", "X"], bpBefore: "released" }),
    step("e", { breakBefore: ["X"] }),
  ];

  it("TestComputeBreakpoints_States: one entry per declared position, sorted by step id; armed, live state, blocked_since, holding", () => {
    const infos = computeBreakpoints(state(steps, { active: ["X"] }));
    expect(infos).toEqual([
      { stepId: "a", position: "after", labels: ["X"], armed: true, state: "blocked", blockedSince: T1, holding: ["b"] },
      { stepId: "b", position: "before", labels: ["X"], armed: true },
      { stepId: "c", position: "before", labels: ["Z"], armed: false },
      { stepId: "d", position: "before", labels: ["Y", "X"], armed: true, state: "released" },
      { stepId: "e", position: "before", labels: ["X"], armed: true, state: "blocked" },
    ]);
    expect(infos[1]!.state).toBeUndefined(); // b stops behind a's gate, not at its own breakpoint
    expect(infos[4]!.blockedSince).toBeUndefined(); // computed live: the mark comes later
    expect(countBlocked(infos)).toBe(2);
  });

  it("a step declaring both positions gets two entries, before first; an advisory mark without an armed label is not blocked", () => {
    const s = state(
      [
        step("g", { status: "done", breakBefore: ["X"], bpBefore: "released", breakAfter: ["X", "Y"] }),
        step("h", { deps: ["g"] }),
        step("m", { breakBefore: ["Q"], bpBefore: "blocked", bpBlockedAt: T0 }),
      ],
      { active: ["Y"] },
    );
    expect(computeBreakpoints(s)).toEqual([
      { stepId: "g", position: "before", labels: ["X"], armed: false, state: "released" },
      { stepId: "g", position: "after", labels: ["X", "Y"], armed: true, state: "blocked", holding: ["h"] },
      { stepId: "m", position: "before", labels: ["Q"], armed: false },
    ]);
  });

  it("holding lists only pending dependents, required and time-only, sorted", () => {
    const s = state(
      [
        step("a", { status: "done", breakAfter: ["X"] }),
        step("z", { deps: ["a"] }),
        step("y", { optionalDeps: ["a"] }),
        step("x", { deps: ["a"], status: "canceled" }),
        step("w"),
      ],
      { active: ["X"] },
    );
    expect(computeBreakpoints(s)[0]!.holding).toEqual(["y", "z"]);
  });

  it("TestComputeBreakpoints_TerminalDAG_NothingBlocked: done, failed, canceled ⇒ nothing blocked, releases still shown", () => {
    for (const status of ["done", "failed", "canceled"] as const) {
      const infos = computeBreakpoints(state(steps, { active: ["X"], status }));
      expect(infos.map((i) => i.state)).toEqual([undefined, undefined, undefined, "released", undefined]);
      expect(infos.every((i) => i.blockedSince === undefined && i.holding === undefined)).toBe(true);
      expect(countBlocked(infos)).toBe(0);
    }
  });

  it("paused and pausing DAGs still report their stops", () => {
    for (const status of ["paused", "pausing"] as const) expect(countBlocked(computeBreakpoints(state(steps, { active: ["X"], status })))).toBe(2);
  });

  it("a DAG without breakpoints has no entries", () => {
    expect(computeBreakpoints(state([step("a"), step("b", { deps: ["a"] })], { active: ["X"] }))).toEqual([]);
  });
});

describe("computeSignals / countWaitingSteps (reference §3.21)", () => {
  it("TestComputeSignals_States: delivered ∪ declared names, sorted; delivered carry time and payload; undelivered list pending waiters", () => {
    const s = state(
      [
        step("b", { waitSignals: ["go"] }),
        step("c", { status: "done", waitSignals: ["other"] }),
        step("d", { deps: ["r"], waitSignals: ["go"] }), // deps unfinished: still listed (reference §8.3 item 21)
        step("r", { status: "running" }),
        step("e", { status: "failed", waitSignals: ["go"] }),
      ],
      { signals: [signal("other", '{"n":1}'), signal("extra", '"x"')] },
    );
    expect(computeSignals(s)).toEqual([
      { name: "extra", delivered: true, deliveredAt: T0, payload: '"x"' },
      { name: "go", delivered: false, waiting: ["b", "d"] },
      { name: "other", delivered: true, deliveredAt: T0, payload: '{"n":1}' },
    ]);
  });

  it("an undelivered name no pending step waits for lists no waiters", () => {
    expect(computeSignals(state([step("c", { status: "skipped", waitSignals: ["go"] })]))).toEqual([{ name: "go", delivered: false }]);
  });

  it("TestComputeSignals_TerminalDAG_NoWaiters", () => {
    for (const status of ["done", "failed", "canceled"] as const) {
      const infos = computeSignals(state([step("b", { waitSignals: ["go"] })], { status }));
      expect(infos).toEqual([{ name: "go", delivered: false }]);
      expect(countWaitingSteps(infos)).toBe(0);
    }
  });

  it("TestCountWaitingSteps_DistinctAcrossSignals: 3 distinct steps; none ⇒ 0", () => {
    const s = state([step("a", { waitSignals: ["s1", "s2"] }), step("b", { waitSignals: ["s2"] }), step("c", { waitSignals: ["s3"] })]);
    expect(countWaitingSteps(computeSignals(s))).toBe(3);
    expect(countWaitingSteps([])).toBe(0);
  });
});

describe("stepWaits: what a pending step waits on", () => {
  it("is undefined for a step that is not pending", () => {
    for (const status of ["running", "done", "failed", "skipped", "canceled"] as const) {
      const s = state([step("a", { status })]);
      expect(stepWaits(s, stepOf(s, "a"))).toBeUndefined();
    }
  });

  it("nothing: every gate open", () => {
    const s = state([step("a")]);
    expect(stepWaits(s, stepOf(s, "a"))).toEqual({ deps: [], afterBreakpoints: [], held: false, breakpoint: false, signals: [] });
  });

  it("unfinished or missing deps (required and time-only), after-breakpoint gates, the hold, its own breakpoint, undelivered signals", () => {
    const s = state(
      [
        step("r", { status: "running" }),
        step("g", { status: "done", breakAfter: ["X"] }),
        step("f", { status: "failed", breakAfter: ["X"] }),
        step("p", { deps: ["r", "g", "f", "ghost"], optionalDeps: ["r2"], held: true, breakBefore: ["X"], waitSignals: ["b", "a", "c"] }),
        step("r2"),
      ],
      { active: ["X"], signals: [signal("c")] },
    );
    expect(stepWaits(s, stepOf(s, "p"))).toEqual({ deps: ["r", "ghost", "r2"], afterBreakpoints: ["g"], held: true, breakpoint: true, signals: ["b", "a"] });
  });

  it("a released or unarmed breakpoint does not stop it", () => {
    const s = state([step("a", { breakBefore: ["X"], bpBefore: "released" }), step("b", { breakBefore: ["Y"] })], { active: ["X"] });
    expect(stepWaits(s, stepOf(s, "a"))?.breakpoint).toBe(false);
    expect(stepWaits(s, stepOf(s, "b"))?.breakpoint).toBe(false);
  });
});

describe("debugDag (reference §3.27, §6.12)", () => {
  it("TestDebug_Counts: one step of each status counted", () => {
    const statuses: StepStatus[] = ["pending", "running", "done", "failed", "skipped", "canceled"];
    const report = debugDag(state(statuses.map((s) => step(s, { status: s }))));
    expect(report.counts).toEqual({ pending: 1, running: 1, done: 1, failed: 1, skipped: 1, canceled: 1 });
    expect(report.steps).toHaveLength(6);
  });

  it("TestDebug_Durations: queue = started − added (5 ms), exec = finished − started (100 ms); unknown when a time is missing", () => {
    const report = debugDag(
      state([step("a", { status: "done", addedAt: T0, startedAt: at(5), finishedAt: at(105) }), step("b", { status: "pending" }), step("c", { status: "running", startedAt: at(7) })]),
    );
    const byId = new Map(report.steps.map((s) => [s.record.stepId, s]));
    expect([byId.get("a")!.queueMs, byId.get("a")!.execMs]).toEqual([5, 100]);
    expect([byId.get("b")!.queueMs, byId.get("b")!.execMs]).toEqual([undefined, undefined]);
    expect([byId.get("c")!.queueMs, byId.get("c")!.execMs]).toEqual([7, undefined]);
  });

  it("TestDebug_TotalDuration: none while a step is not terminal; last finish − creation once all are (200 ms)", () => {
    expect(debugDag(state([step("a", { status: "done", finishedAt: at(100) }), step("b", { status: "running" })])).totalMs).toBeUndefined();
    expect(debugDag(state([step("a", { status: "done", finishedAt: at(100) }), step("b", { status: "failed", finishedAt: at(200) })])).totalMs).toBe(200);
  });

  it("TestDebug_Blockers: c waits on required a and time-only b; ready roots are not blockers", () => {
    const report = debugDag(state([step("a"), step("b", { status: "running" }), step("c", { deps: ["a"], optionalDeps: ["b"] })]));
    expect(report.blockers).toEqual([{ stepId: "c", waitingOn: ["a", "b"], gatedBy: [], waitingSignals: [] }]);
  });

  it("TestDebug_Blockers_ExcludesTerminalDeps", () => {
    expect(debugDag(state([step("a", { status: "done" }), step("b", { deps: ["a"] })])).blockers).toEqual([]);
  });

  it("TestDebug_Blockers_GatedByAfterBP: b waits on nothing, gated by a", () => {
    const report = debugDag(state([step("a", { status: "done", breakAfter: ["X"] }), step("b", { deps: ["a"] })], { active: ["X"] }));
    expect(report.blockers).toEqual([{ stepId: "b", waitingOn: [], gatedBy: ["a"], waitingSignals: [] }]);
  });

  it("undelivered signals make a blocker; a step stopped only by its own breakpoint or a hold is not one", () => {
    const report = debugDag(
      state([step("s", { waitSignals: ["go", "approve"] }), step("bp", { breakBefore: ["X"] }), step("h", { held: true })], { active: ["X"], signals: [signal("approve")] }),
    );
    expect(report.blockers).toEqual([{ stepId: "s", waitingOn: [], gatedBy: [], waitingSignals: ["go"] }]);
  });

  it("TestDebug_Steps_OrderedByAddedAt, then by id", () => {
    const report = debugDag(state([step("late", { addedAt: at(300) }), step("mid-b", { addedAt: at(200) }), step("early", { addedAt: at(100) }), step("mid-a", { addedAt: at(200) })]));
    expect(report.steps.map((s) => s.record.stepId)).toEqual(["early", "mid-a", "mid-b", "late"]);
  });

  it("per-step notes: bp:released, bp:blocked[labels], bp:holding[labels]→{ids} (space-joined), sig:waiting[sorted names]", () => {
    const report = debugDag(
      state(
        [
          step("a", { status: "done", breakBefore: ["X"], bpBefore: "released", breakAfter: ["X", "Y"] }),
          step("b", { deps: ["a"] }),
          step("c", { optionalDeps: ["a"] }),
          step("d", { breakBefore: ["X", "Z"], waitSignals: ["zeta", "alpha"] }),
          step("e"),
        ],
        { active: ["X"] },
      ),
    );
    const notes = new Map(report.steps.map((s) => [s.record.stepId, [s.bpNote, s.sigNote]]));
    expect(notes.get("a")).toEqual(["bp:released bp:holding[X Y]→{b c}", ""]);
    expect(notes.get("d")).toEqual(["bp:blocked[X Z]", "sig:waiting[alpha zeta]"]);
    expect(notes.get("e")).toEqual(["", ""]);
  });
});

describe("formatDuration (reference §3.27)", () => {
  it.each([
    [0, "0s"],
    [1.5, "1.5ms"],
    [2350, "2.35s"],
    [65_000, "1m5s"],
    [65_999, "1m5s"],
    [60_000, "1m0s"],
    [3_723_000, "1h2m3s"],
    [0.0005, "0.5µs"],
    [999, "999.0ms"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("formatDebug (reference §3.27 WriteDebug)", () => {
  const NOW = at(60_000);

  function report(status: DagStatus, steps: StepRecord[], extra: { active?: string[]; labels?: string[]; pausedAt?: Date; signals?: ReturnType<typeof signal>[] } = {}) {
    return debugDag(dagState(meta({ status, activeBreakpoints: extra.active, labels: extra.labels, pausedAt: extra.pausedAt }), steps, extra.signals ?? []));
  }

  it("TestDebugPrint_Output: DAG id, step ids and statuses, kind=, (cascade), blockers: none", () => {
    const text = formatDebug(
      report("failed", [
        step("a", { status: "done", startedAt: at(5), finishedAt: at(105), workerId: "w1" }),
        step("b", { status: "failed", errorKind: "validation", errorMessage: "bad", startedAt: at(110), finishedAt: at(120), attempt: 3 }),
        step("c", { status: "skipped", deps: ["b"], finishedAt: at(120) }),
        step("d", { status: "canceled", optional: true, finishedAt: at(130) }),
      ]),
      NOW,
    );
    for (const part of ["DAG d1", "[FAILED]", " a ", " b ", " c ", " d ", "done", "failed", "skipped", "kind=validation", "(cascade)", "(canceled)", "blockers: none", "worker=w1", "attempts=3", "optional"]) {
      expect(text).toContain(part);
    }
    expect(text).toContain("total 130.0ms");
  });

  it("TestDebugPrint_Blockers_Section: 'blockers:' with '<id> waiting on: [..]'", () => {
    const text = formatDebug(report("running", [step("a", { status: "running", startedAt: at(1) }), step("b", { deps: ["a"] })]), NOW);
    expect(text).toContain("  blockers:\n    b waiting on: [a]\n");
    expect(text).not.toContain("blockers: none");
  });

  it("pins the whole layout: header with ages and counts, steps line, labels, aligned rows, blockers, breakpoints and signals", () => {
    const text = formatDebug(
      report(
        "paused",
        [
          step("fetch", { status: "done", addedAt: T0, startedAt: at(5), finishedAt: at(105), workerId: "w1", breakAfter: ["X"] }),
          step("review", { deps: ["fetch"], addedAt: at(1), held: true }),
          step("approve", { addedAt: at(2), waitSignals: ["go"], breakBefore: ["Z"] }),
          step("ship", { addedAt: at(3), breakBefore: ["X"], bpBefore: "blocked", bpBlockedAt: at(50_000) }),
        ],
        { active: ["X"], labels: ["billing", "nightly"], pausedAt: at(30_000), signals: [signal("extra", '{"k":1}')] },
      ),
      NOW,
    );
    expect(text).toBe(
      [
        "DAG d1  [PAUSED]  created 1m0s ago  paused 30.00s ago  ⦿ 2 at breakpoint  ⚑ 1 waiting on signal",
        "  steps: 1 done, 0 failed, 0 skipped, 0 canceled, 3 pending, 0 running",
        "  labels: billing, nightly",
        "",
        "  ✓  fetch    done     queue 5.0ms  exec 100.0ms  worker=w1 bp:holding[X]→{review}",
        "  ⋯  review   pending  queue —      exec —        held",
        "  ⋯  approve  pending  queue —      exec —        sig:waiting[go]",
        "  ⋯  ship     pending  queue —      exec —        bp:blocked[X]",
        "",
        "  blockers:",
        "    review gated by after-bp: [fetch]",
        "    approve waiting on signal: [go]",
        "  breakpoints:",
        "    approve before [Z]  inactive",
        "    fetch after [X]  armed  ⦿ blocked  holding [review]",
        "    ship before [X]  armed  ⦿ blocked 10.00s ago",
        "  signals:",
        "    extra  delivered 1m0s ago",
        "    go  awaited  ⚑ waiting [approve]",
        "",
      ].join("\n"),
    );
  });

  it("glyphs per status, '?' for none of them; released breakpoints; no breakpoints or signals sections when there are none", () => {
    const text = formatDebug(
      report("running", [
        step("r", { status: "running", startedAt: at(2) }),
        step("s", { status: "skipped", errorKind: "dep", finishedAt: at(3) }),
        step("x", { status: "canceled" }),
        step("y", { status: "failed" }),
        step("z", { status: "odd" as StepStatus }),
      ]),
      NOW,
    );
    const rows = text.split("\n").filter((l) => /^ {2}\S {2}/.test(l));
    expect(rows.map((l) => l.slice(2, 3))).toEqual(["▶", "⊘", "■", "✗", "?"]);
    expect(text).not.toContain("(cascade)"); // a skip with a kind is not a cascade
    expect(text).not.toContain("breakpoints:");
    expect(text).not.toContain("signals:");
    expect(text).not.toContain("labels:");
    const released = formatDebug(report("done", [step("a", { status: "done", breakBefore: ["X"], bpBefore: "released", finishedAt: at(10) })], { active: ["X"] }), NOW);
    expect(released).toContain("    a before [X]  armed  released\n");
    expect(released.split("\n")[0]).toBe("DAG d1  [DONE]  created 1m0s ago  total 10.0ms");
  });
});
