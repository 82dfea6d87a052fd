import { describe, expect, it } from "vitest";
import { truncateErrorMessage } from "../../../src/workflow/index.js";

describe("truncateErrorMessage (reference §3.26, TestTruncateErrorMessage)", () => {
  it("keeps short messages, drops all with a negative limit, cuts long ones with an ellipsis", () => {
    expect(truncateErrorMessage("short", 0)).toBe("short");
    expect(truncateErrorMessage("anything", -1)).toBe("");
    expect(truncateErrorMessage("abcd", 4)).toBe("abcd");
    expect(truncateErrorMessage("abcdef", 4)).toBe("abcd…");
    expect(truncateErrorMessage("x".repeat(5000), 0)).toBe("x".repeat(4096) + "…");
  });

  it("cuts on a character boundary, never inside a multi-byte character", () => {
    // "é" is two bytes: a cut at 3 bytes would split the second one.
    expect(truncateErrorMessage("éé", 3)).toBe("é…");
    expect(truncateErrorMessage("a🎉b", 3)).toBe("a…");
  });
});
