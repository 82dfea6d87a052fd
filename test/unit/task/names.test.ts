import { describe, expect, it } from "vitest";
import { EbindError, b64url, validateHandlerName, validateKeyToken, validateSubjectToken } from "../../../src/task/index.js";

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
