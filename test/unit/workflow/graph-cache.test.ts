/** The scheduler's per-process cache of DAG structure (src/workflow/run/graph-cache.ts). */
import { describe, expect, it } from "vitest";
import { DagGraph, GraphCache } from "../../../src/workflow/run/graph-cache.js";
import { args, lit, ref, sig, step } from "./helpers.js";

describe("DagGraph", () => {
  it("indexes dependents over required and optional deps, once each", () => {
    const g = new DagGraph(7, [
      step("a"),
      step("b", { deps: ["a"] }),
      step("c", { deps: ["a", "b"], optionalDeps: ["a"] }),
      step("d", { optionalDeps: ["b"] }),
    ]);
    expect(g.metaRevision).toBe(7);
    expect(g.size).toBe(4);
    expect(g.dependentsOf("a")).toEqual(["b", "c"]);
    expect(g.dependentsOf("b")).toEqual(["c", "d"]);
    expect(g.dependentsOf("d")).toEqual([]);
    expect(g.dependentsOf("nope")).toEqual([]);
    expect(g.has("c") && !g.has("nope")).toBe(true);
    expect(g.shape("c")?.deps).toEqual(["a", "b"]);
  });

  it("keeps how many of a step's dependencies were seen terminal, only ever moving it forward", () => {
    const g = new DagGraph(1, [step("a"), step("b"), step("j", { deps: ["a", "b"] })]);
    expect(g.dependencyCursor("j")).toBe(0);
    g.setDependencyCursor("j", 1);
    expect(g.dependencyCursor("j")).toBe(1);
    g.setDependencyCursor("j", 0); // a later look that started lower does not move it back
    expect(g.dependencyCursor("j")).toBe(1);
    g.setDependencyCursor("j", 2);
    expect(g.dependencyCursor("j")).toBe(2);
    expect(g.dependencyCursor("a")).toBe(0);
  });

  it("knows terminal records only: listed ones, and notes of steps it lists; never steps with breakpoint labels", () => {
    const g = new DagGraph(1, [
      step("done", { status: "done" }),
      step("run", { status: "running" }),
      step("bp", { status: "done", breakAfter: ["x"] }),
      step("later"),
    ]);
    expect(g.knownTerminal("done")?.status).toBe("done");
    expect(g.knownTerminal("run")).toBeUndefined();
    expect(g.knownTerminal("bp")).toBeUndefined();
    g.note(step("later", { status: "skipped" }));
    g.note(step("stranger", { status: "done" })); // not listed: ignored
    g.note(step("run", { status: "running" }));
    expect(g.knownTerminal("later")?.status).toBe("skipped");
    expect(g.knownTerminal("stranger")).toBeUndefined();
    expect(g.knownTerminal("run")).toBeUndefined();
  });

  it("keeps no arguments, only whether a step uses signals", () => {
    const g = new DagGraph(1, [
      step("plain", { argsJson: args(lit("1"), ref("waits")), deps: ["waits"] }),
      step("waits", { waitSignals: ["go"] }),
      step("takes", { argsJson: args(sig("payload")) }),
      step("done", { status: "done", argsJson: args(lit('"big"')) }),
    ]);
    expect(g.shape("plain")).toMatchObject({ argsJson: "", deps: ["waits"] });
    expect(g.knownTerminal("done")?.argsJson).toBe("");
    expect(["plain", "waits", "takes"].map((id) => g.usesSignals(id))).toEqual([false, true, true]);
  });

  it("lists the steps not known terminal, the one last seen unsettled first", () => {
    const g = new DagGraph(1, [step("a", { status: "done" }), step("b"), step("c"), step("d")]);
    expect(g.unsettled()).toEqual(["b", "c", "d"]);
    g.noteUnsettled("d");
    expect(g.unsettled()).toEqual(["d", "b", "c"]);
    g.note(step("d", { status: "done" }));
    expect(g.unsettled()).toEqual(["b", "c"]);
  });
});

describe("GraphCache", () => {
  it("hands a graph back only at the meta revision it was listed under, and forgets it otherwise", () => {
    const cache = new GraphCache();
    cache.set("d1", 5, [step("a")]);
    expect(cache.get("d1", 5)?.has("a")).toBe(true);
    expect(cache.get("d1", 6)).toBeUndefined(); // the meta moved (a step was added, the status changed, re-created)
    expect(cache.get("d1", 5)).toBeUndefined(); // and the stale graph is gone
    expect(cache.size).toBe(0);
  });

  it("replaces a DAG's graph and drops it on request", () => {
    const cache = new GraphCache();
    cache.set("d1", 5, [step("a")]);
    cache.set("d1", 9, [step("a"), step("b", { deps: ["a"] })]);
    expect(cache.size).toBe(1);
    expect(cache.get("d1", 9)?.dependentsOf("a")).toEqual(["b"]);
    cache.drop("d1");
    cache.drop("unknown");
    expect(cache.get("d1", 9)).toBeUndefined();
  });

  it("evicts the least recently used DAG beyond maxDags", () => {
    const cache = new GraphCache({ maxDags: 2 });
    cache.set("d1", 1, [step("a")]);
    cache.set("d2", 1, [step("a")]);
    expect(cache.get("d1", 1)).toBeDefined(); // d1 used: d2 is now the oldest
    cache.set("d3", 1, [step("a")]);
    expect(cache.size).toBe(2);
    expect(cache.get("d2", 1)).toBeUndefined();
    expect(cache.get("d1", 1)).toBeDefined();
    expect(cache.get("d3", 1)).toBeDefined();
  });

  it("evicts beyond maxSteps, but keeps the DAG just listed even when it alone is larger", () => {
    const cache = new GraphCache({ maxSteps: 3 });
    cache.set("d1", 1, [step("a"), step("b")]);
    cache.set("d2", 1, [step("a")]);
    expect(cache.size).toBe(2);
    cache.set("d3", 1, [step("a"), step("b")]);
    expect(cache.get("d1", 1)).toBeUndefined();
    expect(cache.get("d2", 1)).toBeDefined();
    cache.set("big", 1, ["a", "b", "c", "d", "e"].map((id) => step(id)));
    expect(cache.size).toBe(1);
    expect(cache.get("big", 1)?.size).toBe(5);
  });
});
