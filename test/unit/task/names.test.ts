import { describe, expect, it } from "vitest";
import { EbindError, b64url, validateHandlerName, validateKeyToken, validateSubjectToken, validateTarget } from "../../../src/task/index.js";

function problem(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EbindError);
    expect((e as EbindError).code).toBe("invalid_argument");
    return (e as EbindError).message;
  }
  throw new Error("expected an EbindError");
}

describe("validateHandlerName", () => {
  it.each(["main.Greet", "handlers.Foo", "e2e.eAdd", "a", "x-y_z:1", "ünïcode.名前", "a".repeat(256)])("accepts %j", (name) => {
    expect(() => validateHandlerName(name)).not.toThrow();
  });

  it.each([
    ["", "it is empty"],
    ["a".repeat(257), "longer than 256"],
    ["a b", "whitespace or a control character"],
    ["a\tb", "whitespace or a control character"],
    ["a\u0000b", "whitespace or a control character"],
    ["a\u00a0b", "whitespace or a control character"],
    ["a.*", "wildcard"],
    ["a.>", "wildcard"],
    ["foo*", "wildcard"],
    [".a", "empty dot-separated token"],
    ["a.", "empty dot-separated token"],
    ["a..b", "empty dot-separated token"],
  ])("rejects %j: %s", (name, why) => {
    const message = problem(() => validateHandlerName(name));
    expect(message).toContain("handler name");
    expect(message).toContain(why);
  });

  it("names what is being checked", () => {
    expect(problem(() => validateHandlerName("a b", "alias"))).toMatch(/^alias "a b" is invalid/);
    expect(problem(() => validateHandlerName(5 as unknown as string))).toContain("it is a number");
  });
});

describe("validateSubjectToken and validateKeyToken", () => {
  it("accepts single tokens", () => {
    expect(() => validateSubjectToken("client-1:x", "client id")).not.toThrow();
    expect(() => validateKeyToken("dag_1-A=", "DAG id")).not.toThrow();
  });

  it("refuses dots and other subject breakers", () => {
    expect(problem(() => validateSubjectToken("a.b", "DAG id"))).toBe(`DAG id "a.b" is invalid: it contains '.', which would split it into several subject tokens`);
    expect(problem(() => validateSubjectToken("", "step id"))).toContain("empty");
    expect(problem(() => validateSubjectToken("a>", "step id"))).toContain("wildcard");
  });

  it("refuses characters KV keys do not allow", () => {
    expect(problem(() => validateKeyToken("a.b", "step id"))).toContain("only letters, digits");
    expect(problem(() => validateKeyToken("a:b", "step id"))).toContain("only letters, digits");
    expect(problem(() => validateKeyToken("", "step id"))).toContain("empty");
  });
});

describe("b64url", () => {
  it.each([
    ["primary", "cHJpbWFyeQ"],
    ["worker:w1", "d29ya2VyOncx"],
    ["approval", "YXBwcm92YWw"],
    ["a.b *>tricky name", "YS5iICo-dHJpY2t5IG5hbWU"],
    ["", ""],
    ["f", "Zg"],
    ["fo", "Zm8"],
    ["foo", "Zm9v"],
  ])("%j → %j", (input, want) => {
    expect(b64url(input)).toBe(want);
  });

  it("matches Node's base64url of the UTF-8 bytes", () => {
    for (const s of ["é", "名前", "\u{1f600}", "???>>>", "a".repeat(100)]) {
      expect(b64url(s)).toBe(Buffer.from(s, "utf8").toString("base64url"));
    }
  });
});

// Found by test/fuzz/names.test.ts.
describe("names UTF-8 cannot carry, and targets no worker can take", () => {
  it("refuses lone surrogates, which would share a subject with U+FFFD", () => {
    expect(problem(() => validateHandlerName("a\ud800"))).toContain('lone surrogate ("\\ud800" at 1)');
    expect(problem(() => validateSubjectToken("\udc00x", "client.clientId"))).toContain("lone surrogate");
    expect(problem(() => validateTarget("gpu\ud83d", "options.target"))).toContain("lone surrogate");
    expect(() => validateHandlerName("a\ud83d\ude00")).not.toThrow();
  });

  it("names the character a KV key token refuses", () => {
    expect(problem(() => validateKeyToken("ab.c", "DAG id"))).toBe(`DAG id "ab.c" is invalid: it contains "." at 2; only letters, digits, '-', '_' and '=' are allowed`);
  });

  it("refuses targets with surrounding whitespace (workers trim claims) or too long for a claim's durable", () => {
    expect(problem(() => validateTarget(" gpu", "options.target"))).toContain("leading or trailing whitespace");
    expect(problem(() => validateTarget("é".repeat(91), "options.target"))).toContain("longer than 180 UTF-8 bytes");
    expect(() => validateTarget("é".repeat(90), "options.target")).not.toThrow();
  });
});
