/**
 * Issue 15: JSON text a JavaScript value cannot hold (an int64 above 2^53 for a Go handler, a long
 * decimal) written verbatim into arguments and results through `rawJson`.
 */
import { describe as suite, expect, expectTypeOf, it } from "vitest";
import type { RawJson} from "../../../src/task/index.js";
import { defineHandler, describe, EbindError, rawJson, stringifyJson, type HandlerContext, type ResultOf } from "../../../src/task/index.js";

const ctx = { signal: new AbortController().signal } as unknown as HandlerContext;

suite("rawJson", () => {
  it("is written verbatim, alone, nested, repeated, and beside -0", () => {
    expect(stringifyJson(rawJson("9007199254740993"))).toBe("9007199254740993");
    expect(stringifyJson({ id: rawJson(" 123456789012345678901234567890 "), n: [rawJson("1.000000000000000000001"), -0, rawJson('{"a":[1e400]}')] })).toBe(
      '{"id":123456789012345678901234567890,"n":[1.000000000000000000001,-0,{"a":[1e400]}]}',
    );
    // Outside ebind, JSON.stringify writes the parsed value.
    expect(JSON.stringify({ n: rawJson("9007199254740993") })).toBe('{"n":9007199254740992}');
  });

  it("refuses text that is not exactly one JSON value, naming why", () => {
    expect(() => rawJson("1 2")).toThrow(EbindError);
    expect(() => rawJson("[1,")).toThrow(/rawJson: not one JSON value/);
    expect(() => rawJson(5 as unknown as string)).toThrow(/rawJson: expected JSON text, got number/);
  });

  it("a handler's raw result and a producer's raw argument travel exactly", async () => {
    const total = defineHandler("raw.total", async (_ctx, n: number | RawJson<number>) => rawJson<number>(`${JSON.stringify(n)}1`));
    const d = describe(total);
    await expect(d.validateArgs([rawJson("9007199254740993")])).resolves.toBeUndefined();
    expect(d.encodeArgs([rawJson("9007199254740993")])).toBe("[9007199254740993]");
    expect(await d.call(ctx, "[5]")).toBe("51");
    expectTypeOf<ResultOf<typeof total>>().toEqualTypeOf<number>();
  });
});
