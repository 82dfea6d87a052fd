/** Step times across clocks (issue 12): a step never finishes before it started, nor starts before it was added. */
import { describe, expect, it } from "vitest";
import { finishTime } from "../../../src/workflow/model/records.js";
import { nextStartTime } from "../../../src/workflow/run/enqueue.js";
import { applyCompletion } from "../../../src/workflow/plan/index.js";
import { state, step } from "./helpers.js";

const NOW = Date.UTC(2026, 4, 1, 10, 0, 0);
const AHEAD = new Date(NOW + 7 * 60_000);

describe("finishTime", () => {
  it("is now, or the start time when a scheduler's clock ahead of this one wrote it", () => {
    expect(finishTime({ startedAt: new Date(NOW - 1000) }, NOW)).toEqual(new Date(NOW));
    expect(finishTime({ startedAt: AHEAD }, NOW)).toEqual(AHEAD);
    expect(finishTime({ startedAt: undefined }, NOW)).toEqual(new Date(NOW));
  });

  it("applyCompletion clamps the in-memory finishedAt of the step and of its cascade", () => {
    const s = state([step("a", { status: "running", startedAt: AHEAD }), step("b", { deps: ["a"], status: "running", startedAt: AHEAD })]);
    const { state: next } = applyCompletion(s, "a", { status: "failed", errorKind: "boom", errorMessage: "x" }, new Date(NOW));
    expect(next.steps.get("a")?.finishedAt).toEqual(AHEAD);
    expect(next.steps.get("b")).toMatchObject({ status: "skipped", finishedAt: AHEAD });
  });
});

describe("nextStartTime", () => {
  it("is never before the step was added nor before its previous start", () => {
    const now = Date.now();
    expect(nextStartTime({ addedAt: new Date(now + 60_000), startedAt: undefined }).getTime()).toBe(now + 60_000);
    expect(nextStartTime({ addedAt: new Date(0), startedAt: new Date(now + 60_000) }).getTime()).toBe(now + 60_001);
    expect(nextStartTime({ addedAt: new Date(0), startedAt: new Date(0) }).getTime()).toBeGreaterThanOrEqual(now);
  });
});
