/**
 * `-0` is carried, not turned into `0` (issue 12, "`-0` silently becomes `0`"): JSON allows the text
 * `-0`, `JSON.parse("-0")` is `-0`, and Go's encoding/json writes it too.
 */
import { describe as suite, expect, it } from "vitest";
import { z } from "zod";
import { defineHandler, describe, stringifyJson, type HandlerContext } from "../../../src/task/index.js";

const ctx: HandlerContext = {
  signal: new AbortController().signal,
  task: { id: "t", name: "n", payload: "[]", enqueuedAt: new Date(0), attempt: 1 },
  attempt: 1,
  workerId: "w1",
};

suite("stringifyJson", () => {
  it.each<[string, unknown, string]>([
    ["top-level -0", -0, "-0"],
    ["-0 in an array", [0, -0, 1], "[0,-0,1]"],
    ["-0 in an object", { a: -0, b: { c: [-0] } }, '{"a":-0,"b":{"c":[-0]}}'],
    ["boxed -0", [new Number(-0)], "[-0]"],
    ["a string equal to the old mark style", ["\u0000ebind-negative-zero-x", -0], '["\\u0000ebind-negative-zero-x",-0]'],
    ["a key named like a number", { "-0": -0 }, '{"-0":-0}'],
  ])("writes %s as -0", (_what, value, text) => {
    expect(stringifyJson(value)).toBe(text);
    expect(stringifyJson(JSON.parse(text))).toBe(text);
  });

  it("reads back every -0 as -0", () => {
    const back = JSON.parse(stringifyJson({ a: -0, b: [1, -0], c: 0 }) as string) as { a: number; b: number[]; c: number };
    expect(Object.is(back.a, -0)).toBe(true);
    expect(Object.is(back.b[1], -0)).toBe(true);
    expect(Object.is(back.c, 0)).toBe(true);
  });

  it.each<[string, unknown]>([
    ["number", 1.5],
    ["zero", 0],
    ["nested", { a: [1, { b: "x" }], c: null, d: undefined }],
    ["string", "-0"],
    ["undefined", undefined],
    ["Date", new Date(0)],
  ])("is JSON.stringify when there is no -0: %s", (_what, value) => {
    expect(stringifyJson(value)).toBe(JSON.stringify(value));
  });

  it("carries a -0 from a toJSON, and does not loop on shared or cyclic references", () => {
    expect(stringifyJson({ toJSON: () => -0 })).toBe("-0");
    expect(stringifyJson([{ toJSON: () => ({ a: -0 }) }])).toBe('[{"a":-0}]');
    const shared = { v: -0 };
    expect(stringifyJson([shared, shared])).toBe('[{"v":-0},{"v":-0}]');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => stringifyJson(cyclic)).toThrow(TypeError);
  });
});

suite("the dispatcher carries -0", () => {
  const echo = defineHandler("test.echo", async (_c: HandlerContext, v: unknown) => v);

  it("in arguments", () => {
    expect(describe(echo).encodeArgs([-0])).toBe("[-0]");
    expect(describe(echo).encodeArgs([{ x: [-0] }])).toBe('[{"x":[-0]}]');
  });

  it("in results, and back into the handler's argument", async () => {
    let seen: unknown;
    const spy = defineHandler("test.spy", async (_c: HandlerContext, v: unknown) => {
      seen = v;
      return v;
    });
    expect(await describe(spy).call(ctx, "[-0]")).toBe("-0");
    expect(Object.is(seen, -0)).toBe(true);
    expect(await describe(spy).call(ctx, '[{"a":-0}]')).toBe('{"a":-0}');
  });

  it("through argument and result schemas", async () => {
    let seen: unknown;
    const num = defineHandler(
      "test.num",
      async (_c: HandlerContext, v: number) => {
        seen = v;
        return v;
      },
      { args: [z.number()], result: z.number() },
    );
    await describe(num).validateArgs([-0]);
    expect(await describe(num).call(ctx, "[-0]")).toBe("-0");
    expect(Object.is(seen, -0)).toBe(true);
  });
});
