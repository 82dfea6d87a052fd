/** toJsonText (issue 12): JSON.stringify, except that -0 is written -0. */
import { describe, expect, it } from "vitest";
import { toJsonText } from "../../../src/workflow/model/json-text.js";

describe("toJsonText", () => {
  it("writes -0 as -0, alone, nested and boxed; JSON.parse reads it back as -0", () => {
    expect(toJsonText(-0)).toBe("-0");
    expect(toJsonText({ a: [-0, 0, 1], b: { c: -0 } })).toBe('{"a":[-0,0,1],"b":{"c":-0}}');
    expect(toJsonText([Object(-0) as number])).toBe("[-0]");
    expect(Object.is(JSON.parse(toJsonText({ x: -0 })!).x, -0)).toBe(true);
  });

  it("is JSON.stringify otherwise, strings that look like the mark included", () => {
    for (const v of [0, 1.5, "x", null, [1, "-0"], { s: "\u0000ebind:-0:0:abc" }, new Date(0)]) expect(toJsonText(v)).toBe(JSON.stringify(v));
    expect(toJsonText(undefined)).toBeUndefined();
    expect(toJsonText({ s: "\u0000ebind:-0:0:x", z: -0 })).toBe('{"s":"\\u0000ebind:-0:0:x","z":-0}');
  });

  it("does not look into toJSON values; throws like JSON.stringify on a cycle", () => {
    expect(toJsonText({ toJSON: () => 5, n: -0 })).toBe("5");
    const cyclic: Record<string, unknown> = { z: -0 };
    cyclic.self = cyclic;
    expect(() => toJsonText(cyclic)).toThrow(TypeError);
  });
});
