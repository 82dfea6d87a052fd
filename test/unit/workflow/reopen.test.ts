/** Which skipped steps a DLQ requeue of a failed step reopens (issue 12, plan/reopen.ts). */
import { describe, expect, it } from "vitest";
import { reopenedWith } from "../../../src/workflow/plan/index.js";
import { args, ref, refOr, state, step } from "./helpers.js";

describe("reopenedWith", () => {
  it("reopens the transitive cascade of the failure, in order reached; or_default dependents and unrelated steps stay", () => {
    const s = state(
      [
        step("a", { status: "failed" }),
        step("b", { status: "skipped", deps: ["a"], argsJson: args(ref("a")) }),
        step("c", { status: "skipped", deps: ["b"], argsJson: args(ref("b")) }),
        step("d", { status: "done", deps: ["a"], argsJson: args(refOr("a", "0")) }),
        step("x", { status: "failed" }),
        step("y", { status: "skipped", deps: ["x"], argsJson: args(ref("x")) }),
      ],
      { status: "failed" },
    );
    expect(reopenedWith(s, "a")).toEqual(["b", "c"]);
  });

  it("a step also skipped by another failed dependency stays skipped; one whose other dependency is reopened too is reopened", () => {
    const s = state(
      [
        step("a", { status: "failed" }),
        step("x", { status: "failed" }),
        // reached from a directly and through b: listed before b, reopened once b is
        step("join", { status: "skipped", deps: ["b", "a"], argsJson: args(ref("b"), ref("a")) }),
        step("b", { status: "skipped", deps: ["a"], argsJson: args(ref("a")) }),
        step("both", { status: "skipped", deps: ["a", "x"], argsJson: args(ref("a"), ref("x")) }),
      ],
      { status: "failed" },
    );
    expect(reopenedWith(s, "a")).toEqual(["b", "join"]);
  });

  it("throws step_not_found for an unknown step", () => {
    expect(() => reopenedWith(state([step("a")]), "zz")).toThrow(/not found/);
  });
});
