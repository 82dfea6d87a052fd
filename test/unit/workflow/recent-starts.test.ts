/** The hand-off of just-started step records to the worker middleware (src/workflow/store/recent-starts.ts). */
import { describe, expect, it } from "vitest";
import { RecentStarts } from "../../../src/workflow/store/recent-starts.js";
import { step } from "./helpers.js";

describe("RecentStarts", () => {
  it("hands a record back once, by DAG and step", () => {
    const recent = new RecentStarts();
    recent.remember({ value: step("a", { status: "running" }), revision: 4 });
    recent.remember({ value: step("b", { status: "running", dagId: "d2" }), revision: 5 });
    expect(recent.take("d1", "b")).toBeUndefined();
    expect(recent.take("d1", "a")).toMatchObject({ revision: 4, value: { stepId: "a" } });
    expect(recent.take("d1", "a")).toBeUndefined();
    expect(recent.take("d2", "b")?.revision).toBe(5);
  });

  it("keeps the latest write of a step, and drops the oldest steps beyond its bound", () => {
    const recent = new RecentStarts(2);
    recent.remember({ value: step("a"), revision: 1 });
    recent.remember({ value: step("b"), revision: 2 });
    recent.remember({ value: step("a"), revision: 3 }); // a is now the newest
    recent.remember({ value: step("c"), revision: 4 });
    expect(recent.size).toBe(2);
    expect(recent.take("d1", "b")).toBeUndefined();
    expect(recent.take("d1", "a")?.revision).toBe(3);
    expect(recent.take("d1", "c")?.revision).toBe(4);
  });
});
