import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, isJsonArrayText, parseObjectRaw, validateJson } from "../../../src/task/index.js";

describe("parseObjectRaw", () => {
  it("returns each member's exact source text", () => {
    const big = "123456789012345678901234567890123456789";
    const m = parseObjectRaw(` { "a" : ${big} , "b":[1, {"c":"d"}], "e":"x\\"y", "f": 1e400 ,"g":null}  `);
    expect([...m.entries()]).toEqual([
      ["a", big],
      ["b", '[1, {"c":"d"}]'],
      ["e", '"x\\"y"'],
      ["f", "1e400"],
      ["g", "null"],
    ]);
  });

  it("unescapes keys and lets the last duplicate win", () => {
    const m = parseObjectRaw('{"a\\u0062":1,"x":1,"x":2}');
    expect(m.get("ab")).toBe("1");
    expect(m.get("x")).toBe("2");
  });

  it("handles an empty object", () => {
    expect(parseObjectRaw(" {} ").size).toBe(0);
  });

  it.each([
    ["", /expected a JSON object/],
    ["[]", /expected a JSON object/],
    ['"x"', /expected a JSON object/],
    ["{", /position 1/],
    ['{"a":1', /expected ',' or '}'/],
    ['{"a":1,}', /expected a string/],
    ['{"a" 1}', /expected ':'/],
    ['{"a":1} x', /unexpected data after/],
    ['{"a":01}', /position 6/],
    ['{"a":-}', /invalid number/],
    ['{"a":1.}', /invalid number/],
    ['{"a":1e}', /invalid number/],
    ['{"a":tru}', /invalid literal/],
    ['{"a":"\\x"}', /invalid escape/],
    ['{"a":"\\u12G4"}', /invalid \\u escape/],
    ['{"a":"line\nbreak"}', /control character/],
    ['{"a":"open}', /unterminated string/],
    ['{"a":[1,2}', /expected ',' or '\]'/],
    ['{"a":{"b":1]}', /expected ',' or '}'/],
    ['{a:1}', /expected a string/],
    ["{'a':1}", /expected a string/],
    ['{"a":NaN}', /expected a JSON value/],
  ])("rejects %j", (text, message) => {
    expect(() => parseObjectRaw(text)).toThrow(SyntaxError);
    expect(() => parseObjectRaw(text)).toThrow(message);
  });

  it("handles deep nesting without recursion, up to the depth limit", () => {
    const ok = `{"a":${"[".repeat(MAX_JSON_DEPTH - 1)}${"]".repeat(MAX_JSON_DEPTH - 1)}}`;
    expect(parseObjectRaw(ok).get("a")?.length).toBe(2 * (MAX_JSON_DEPTH - 1));
    const tooDeep = `{"a":${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}}`;
    expect(() => parseObjectRaw(tooDeep)).toThrow(/nesting deeper than 10000/);
    expect(() => validateJson("[".repeat(200_000))).toThrow(SyntaxError);
  });

  it("property: every raw slice parses to the member's value", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean(), (obj, pretty) => {
        const text = JSON.stringify(obj, null, pretty ? 2 : undefined);
        const m = parseObjectRaw(text);
        const expected = JSON.parse(text) as Record<string, unknown>;
        expect([...m.keys()].sort()).toEqual(Object.keys(expected).sort());
        for (const [k, raw] of m) expect(JSON.parse(raw)).toEqual(expected[k]);
      }),
    );
  });

  it("property: agrees with JSON.parse on arbitrary (possibly broken) text", () => {
    const mutated = fc.tuple(fc.json(), fc.nat(), fc.constantFrom("", "{", "}", ",", '"', "[", ":", "x", "\\")).map(([json, at, insert]) => {
      const text = `{"k":${json}}`;
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(i);
    });
    fc.assert(
      fc.property(mutated, (text) => {
        let native: unknown;
        let nativeOk = true;
        try {
          native = JSON.parse(text);
        } catch {
          nativeOk = false;
        }
        const isObject = nativeOk && typeof native === "object" && native !== null && !Array.isArray(native);
        if (isObject) expect(() => parseObjectRaw(text)).not.toThrow();
        else expect(() => parseObjectRaw(text)).toThrow(SyntaxError);
      }),
    );
  });
});

describe("validateJson and isJsonArrayText", () => {
  it("accepts any single value, rejects the rest", () => {
    for (const ok of ["1", " [1,2] ", '"s"', "null", "-0.5e+3", "{}"]) expect(() => validateJson(ok)).not.toThrow();
    for (const bad of ["", "1 2", "[1,]", "+1", ".5", "nul"]) expect(() => validateJson(bad)).toThrow(SyntaxError);
  });

  it("property: agrees with JSON.parse on fc.json()", () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(() => validateJson(text)).not.toThrow();
      }),
    );
  });

  it("recognises arrays by their first character", () => {
    expect(isJsonArrayText(" \n[1]")).toBe(true);
    expect(isJsonArrayText("{}")).toBe(false);
    expect(isJsonArrayText("null")).toBe(false);
  });
});
