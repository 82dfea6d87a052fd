import { describe, expect, it } from "vitest";
import { validateGraph, type GraphNode } from "../../../src/workflow/plan/index.js";
import { thrown } from "../../support/workflow-assert.js";

const node = (id: string, deps: string[] = [], optionalDeps: string[] = []): GraphNode => ({ id, deps, optionalDeps });

describe("validateGraph", () => {
  it("accepts a DAG (diamond, fan-in, optional deps)", () => {
    expect(() => validateGraph([node("a"), node("b", ["a"]), node("c", ["a"], ["b"]), node("d", ["b", "c"])])).not.toThrow();
  });

  it("unknown dependency ⇒ invalid naming both steps", () => {
    const e = thrown(() => validateGraph([node("a"), node("b", ["a", "zz"])]));
    expect(e.code).toBe("invalid");
    expect(e.message).toBe('workflow: step "b" references unknown step "zz"');
    expect(thrown(() => validateGraph([node("b", [], ["zz"])])).code).toBe("invalid");
  });

  it("known steps may be referenced (dynamic steps)", () => {
    expect(() => validateGraph([node("dyn", ["a"], ["b"])], new Set(["a", "b"]))).not.toThrow();
    expect(thrown(() => validateGraph([node("a")], new Set(["a"]))).code).toBe("duplicate_step");
  });

  it("duplicate id ⇒ duplicate_step", () => {
    expect(thrown(() => validateGraph([node("a"), node("a")])).message).toBe('workflow: duplicate step id "a"');
  });

  it("two-step cycle through After-only deps ⇒ cycle a ↔ b", () => {
    const e = thrown(() => validateGraph([node("a", ["b"]), node("b", ["a"])]));
    expect(e.code).toBe("cycle");
    expect(e.message).toBe("workflow: cycle detected: a ↔ b");
  });

  it("self-dependency and longer cycles name the path", () => {
    expect(thrown(() => validateGraph([node("a", ["a"])])).message).toBe("workflow: cycle detected: a → a");
    const e = thrown(() => validateGraph([node("root"), node("a", ["root", "c"]), node("b", ["a"]), node("c", ["b"])]));
    expect(e.code).toBe("cycle");
    expect(e.message).toBe("workflow: cycle detected: a → c → b → a");
  });

  it("a cycle through an AfterAny (optional) dep is a cycle too", () => {
    expect(thrown(() => validateGraph([node("a", [], ["b"]), node("b", ["a"])])).code).toBe("cycle");
  });

  it("a 50,000-step chain validates quickly (iterative DFS)", () => {
    const n = 50_000;
    const steps = Array.from({ length: n }, (_, i) => node(`s${i}`, i === 0 ? [] : [`s${i - 1}`]));
    validateGraph(steps);
    validateGraph([...steps].reverse());
    // Closing the chain into a cycle is found as well.
    const closed = [node("s0", [`s${n - 1}`]), ...steps.slice(1)];
    expect(thrown(() => validateGraph(closed)).code).toBe("cycle");
  });
});
