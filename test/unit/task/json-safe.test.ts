import { describe, expect, it } from "vitest";
import { findUnfaithfulJson } from "../../../src/task/index.js";

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

class Money {
  constructor(readonly cents: number) {}
  toJSON(): string {
    return `${this.cents}c`;
  }
}

describe("findUnfaithfulJson", () => {
  it.each<[string, unknown]>([
    ["number", 1.5],
    ["string", "s"],
    ["null", null],
    ["boolean", false],
    ["plain object", { a: 1, b: [1, "x", null, { c: true }] }],
    ["null-prototype object", Object.assign(Object.create(null) as object, { a: 1 })],
    ["undefined property (an omitted optional field)", { a: undefined, b: 1 }],
    ["Date", new Date()],
    ["object with toJSON", new Money(5)],
    ["boxed string", new String("s")],
    ["negative zero", -0],
    ["shared, non-cyclic reference", (() => {
      const shared = { v: 1 };
      return { a: shared, b: [shared, shared] };
    })()],
  ])("accepts %s", (_what, value) => {
    expect(findUnfaithfulJson(value, "arg 0")).toBeUndefined();
  });

  it.each<[string, unknown, string]>([
    ["BigInt", { items: [1, 2, 3, 4n] }, "arg 1.items[3]: BigInt cannot be carried by JSON"],
    ["Map", { m: new Map() }, "arg 1.m: a Map cannot be carried by JSON"],
    ["Set", [new Set([1])], "arg 1[0]: a Set cannot be carried by JSON"],
    ["WeakMap", new WeakMap(), "arg 1: a WeakMap cannot be carried by JSON"],
    ["symbol", { s: Symbol("x") }, "arg 1.s: a symbol cannot be carried by JSON"],
    ["function", { f: () => 1 }, "arg 1.f: a function cannot be carried by JSON"],
    ["top-level undefined", undefined, "arg 1: undefined cannot be carried by JSON"],
    ["undefined in an array", [1, undefined], "arg 1[1]: undefined cannot be carried by JSON"],
    ["NaN", { n: Number.NaN }, "arg 1.n: NaN cannot be carried by JSON"],
    ["Infinity", [Number.POSITIVE_INFINITY], "arg 1[0]: Infinity cannot be carried by JSON"],
    ["-Infinity", Number.NEGATIVE_INFINITY, "arg 1: -Infinity cannot be carried by JSON"],
    ["class instance", { p: new Point(1, 2) }, "arg 1.p: an instance of Point cannot be carried by JSON"],
    ["Error", new Error("x"), "arg 1: an instance of Error cannot be carried by JSON"],
    ["typed array", { bytes: new Uint8Array(2) }, "arg 1.bytes: a Uint8Array cannot be carried by JSON"],
    ["ArrayBuffer", new ArrayBuffer(2), "arg 1: an ArrayBuffer cannot be carried by JSON"],
    // eslint-disable-next-line no-sparse-arrays
    ["sparse array hole", [1, , 3], "arg 1[1]: an array hole cannot be carried by JSON"],
    ["odd key", { "a b": { "0x": 1n } }, 'arg 1["a b"]["0x"]: BigInt'],
  ])("refuses %s, naming the path", (_what, value, message) => {
    expect(findUnfaithfulJson(value, "arg 1")).toContain(message);
  });

  it("refuses cycles, naming where they lead back to", () => {
    const a: Record<string, unknown> = { list: [] };
    (a.list as unknown[]).push({ back: a });
    expect(findUnfaithfulJson(a, "arg 0")).toBe("arg 0.list[0].back: a cycle (back to arg 0) cannot be carried by JSON");
  });

  it("reports the first problem in document order", () => {
    expect(findUnfaithfulJson([1, { x: 1n }, Number.NaN], "v")).toBe("v[1].x: BigInt cannot be carried by JSON (pass it as a string)");
    expect(findUnfaithfulJson({ a: [Number.NaN], b: 1n }, "v")).toContain("v.a[0]: NaN");
    // eslint-disable-next-line no-sparse-arrays
    expect(findUnfaithfulJson([1n, , 3], "v")).toContain("v[0]: BigInt");
  });

  it("handles very deep and very large values", () => {
    let deep: unknown = 1n;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findUnfaithfulJson(deep, "v")).toMatch(/^v(\[0\]){100000}: BigInt/);
    const big = Array.from({ length: 1_000_000 }, (_, i) => i);
    expect(findUnfaithfulJson(big, "v")).toBeUndefined();
  });

  // Found by test/fuzz/values.test.ts: each of these used to pass the check and arrive changed.
  it.each<[string, unknown, string]>([
    ["an invalid Date (arrived as null)", { when: new Date(Number.NaN) }, "arg 1.when: an invalid Date cannot be carried by JSON"],
    ["a boxed NaN (arrived as null)", [new Number(Number.NaN)], "arg 1[0]: a boxed NaN cannot be carried by JSON"],
    ["a boxed Infinity (arrived as null)", { n: new Number(Number.POSITIVE_INFINITY) }, "arg 1.n: a boxed Infinity cannot be carried by JSON"],
    ["a toJSON returning NaN (arrived as null)", { m: { toJSON: () => Number.NaN } }, "arg 1.m (toJSON): NaN cannot be carried by JSON"],
    ["a toJSON returning a Map (arrived as {})", [{ toJSON: () => new Map() }], "arg 1[0] (toJSON): a Map cannot be carried by JSON"],
    ["a toJSON returning undefined in an array (arrived as null)", [{ toJSON: () => undefined }], "arg 1[0] (toJSON): undefined cannot be carried by JSON"],
    ["a toJSON that throws", { t: { toJSON: () => { throw new Error("nope"); } } }, "arg 1.t: its toJSON method threw: nope"],
    ["a symbol-keyed property (was dropped)", { a: 1, [Symbol("k")]: 2 }, "arg 1: a property keyed by Symbol(k) cannot be carried by JSON"],
  ])("refuses %s", (_what, value, message) => {
    expect(findUnfaithfulJson(value, "arg 1")).toContain(message);
  });

  it("checks a toJSON's output with the key JSON.stringify passes, and accepts a good one", () => {
    const keys: string[] = [];
    const spy = { toJSON: (key: string) => (keys.push(key), { ok: [1, "x"] }) };
    expect(findUnfaithfulJson({ a: spy, b: [spy] }, "v")).toBeUndefined();
    expect(keys).toEqual(["a", "0"]);
    expect(findUnfaithfulJson({ toJSON: () => undefined }, "v")).toContain("v (toJSON): undefined");
    expect(findUnfaithfulJson({ p: { toJSON: () => undefined } }, "v")).toBeUndefined();
  });
});
