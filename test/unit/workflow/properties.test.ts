import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyCompletion, readyToRun, hasOrDefaultRef, type DagState, type StepOutcome } from "../../../src/workflow/plan/index.js";
import type { StepRecord, StepStatus } from "../../../src/workflow/model/records.js";
import { T1, args, lit, ref, refOr, signal, state, step } from "./helpers.js";

/**
 * A random DAG: step i may depend on any earlier step j, by a required ref, an or_default ref, an
 * After (required, no arg), or an AfterAny (optional). Random statuses, breakpoints, holds, signals.
 */
const dag: fc.Arbitrary<DagState> = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc
    .tuple(
      fc.array(fc.array(fc.constantFrom("none", "ref", "or_default", "after", "after_any"), { minLength: n, maxLength: n }), { minLength: n, maxLength: n }),
      fc.array(fc.constantFrom<StepStatus>("pending", "pending", "pending", "running", "done", "failed", "skipped", "canceled"), { minLength: n, maxLength: n }),
      fc.array(fc.record({ held: fc.boolean(), before: fc.boolean(), after: fc.boolean(), waits: fc.boolean(), released: fc.boolean() }), { minLength: n, maxLength: n }),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([edges, statuses, flags, armed, delivered]) => {
      const steps: StepRecord[] = [];
      for (let i = 0; i < n; i++) {
        const deps: string[] = [];
        const optionalDeps: string[] = [];
        const slots = [lit(String(i))];
        for (let j = 0; j < i; j++) {
          const kind = edges[i]?.[j];
          const id = `s${j}`;
          if (kind === "ref") {
            deps.push(id);
            slots.push(ref(id));
          } else if (kind === "or_default") {
            deps.push(id);
            slots.push(refOr(id, "0"));
          } else if (kind === "after") deps.push(id);
          else if (kind === "after_any") optionalDeps.push(id);
        }
        const f = flags[i] as { held: boolean; before: boolean; after: boolean; waits: boolean; released: boolean };
        steps.push(
          step(`s${i}`, {
            deps,
            optionalDeps,
            argsJson: args(...slots),
            status: statuses[i] as StepStatus,
            held: f.held,
            breakBefore: f.before ? ["bp"] : [],
            breakAfter: f.after ? ["bp"] : [],
            bpBefore: f.released ? "released" : undefined,
            bpAfter: f.released ? "released" : undefined,
            waitSignals: f.waits ? ["go"] : [],
          }),
        );
      }
      return state(steps, { active: armed ? ["bp"] : [], signals: delivered ? [signal("go")] : [] });
    }),
);

const outcome: fc.Arbitrary<StepOutcome> = fc.constantFrom<StepOutcome>(
  { status: "done" },
  { status: "failed", errorKind: "handler", errorMessage: "boom" },
  { status: "skipped" },
);

/** Steps that are pending although a required, non-or_default dep failed or was skipped. */
function violations(s: DagState): string[] {
  const out: string[] = [];
  for (const st of s.steps.values()) {
    if (st.status !== "pending") continue;
    for (const dep of st.deps) {
      const d = s.steps.get(dep);
      if ((d?.status === "failed" || d?.status === "skipped") && !hasOrDefaultRef(st, dep)) out.push(`${st.stepId}←${dep}`);
    }
  }
  return out;
}

/** Makes the random starting state consistent: apply every already-failed/skipped step's cascade. */
function settle(s: DagState): DagState {
  let cur = s;
  for (const st of s.steps.values()) {
    if (st.status === "failed" || st.status === "skipped") cur = applyCompletion(cur, st.stepId, { status: st.status, errorKind: "k", errorMessage: "m" }, T1).state;
  }
  return cur;
}

describe("plan properties (fast-check)", () => {
  it("(a) after applyCompletion of random outcomes, no pending step has a failed/skipped required non-or_default dep", () => {
    fc.assert(
      fc.property(dag, fc.array(fc.tuple(fc.nat(), outcome), { maxLength: 20 }), (s0, moves) => {
        let s = settle(s0);
        expect(violations(s)).toEqual([]);
        const ids = [...s.steps.keys()];
        for (const [k, o] of moves) {
          const id = ids[k % ids.length] as string;
          const before = s.steps.get(id)?.status as StepStatus;
          const r = applyCompletion(s, id, o, T1);
          s = r.state;
          expect(violations(s)).toEqual([]);
          // A terminal status is never changed by an outcome for that step.
          if (before !== "pending" && before !== "running") expect(s.steps.get(id)?.status).toBe(before);
          // Every changed id really differs, and only pending/running steps are cascade-skipped.
          for (const c of r.changed.slice(r.changed[0] === id ? 1 : 0)) expect(s.steps.get(c)?.status).toBe("skipped");
        }
      }),
      { numRuns: 500 },
    );
  });

  it("(b) readyToRun never returns a non-pending, held, gated or dependency-blocked step", () => {
    fc.assert(
      fc.property(dag, (s) => {
        for (const id of readyToRun(s)) {
          const st = s.steps.get(id) as StepRecord;
          expect(st.status).toBe("pending");
          expect(st.held).toBe(false);
          for (const dep of [...st.deps, ...st.optionalDeps]) {
            const d = s.steps.get(dep) as StepRecord;
            expect(["done", "failed", "skipped", "canceled"]).toContain(d.status);
          }
          for (const name of st.waitSignals) expect(s.signals.has(name)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
