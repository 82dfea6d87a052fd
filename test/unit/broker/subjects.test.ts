import { describe, expect, it } from "vitest";
import { filterFitsStream, patternIsSubset as subjectIsSubset } from "../../../src/broker/subjects.js";

describe("subjectIsSubset", () => {
  it("literal and wildcard subjects against wider and narrower patterns", () => {
    expect(subjectIsSubset("a.b", "a.b")).toBe(true);
    expect(subjectIsSubset("a.b", "a.*")).toBe(true);
    expect(subjectIsSubset("a.b.c", "a.>")).toBe(true);
    expect(subjectIsSubset("a.*", "a.>")).toBe(true);
    expect(subjectIsSubset("a.>", "a.>")).toBe(true);
    expect(subjectIsSubset("a.*", "a.*")).toBe(true);
    expect(subjectIsSubset("a", "a.>")).toBe(false);
    expect(subjectIsSubset("a.>", "a.*")).toBe(false);
    expect(subjectIsSubset("a.*", "a.b")).toBe(false);
    expect(subjectIsSubset("a.b.c", "a.*")).toBe(false);
    expect(subjectIsSubset("a.b", "a.b.c")).toBe(false);
    expect(subjectIsSubset("b.c", "a.>")).toBe(false);
  });
});

describe("filterFitsStream (nats-server 2.9's rule for error 10093)", () => {
  it("accepts a filter inside one of the stream's subjects", () => {
    expect(filterFitsStream("T.x", ["S.>", "T.>"])).toBe(true);
    expect(filterFitsStream("T.x.>", ["T.>"])).toBe(true);
    expect(filterFitsStream("T.*", ["T.>"])).toBe(true);
  });

  it("accepts a wildcard filter wider than one of the stream's subjects", () => {
    expect(filterFitsStream(">", ["T.>"])).toBe(true);
    expect(filterFitsStream("T.>", ["T.x"])).toBe(true);
  });

  it("refuses a filter outside every subject, and a literal filter wider than none", () => {
    expect(filterFitsStream("U.>", ["T.>"])).toBe(false);
    expect(filterFitsStream("T", ["T.>"])).toBe(false);
    expect(filterFitsStream("T.x", ["T.y", "T.z.*"])).toBe(false);
    // Overlapping but neither a subset of the other: refused, as 2.9 does.
    expect(filterFitsStream("T.*.c", ["T.b.*"])).toBe(false);
  });

  it("accepts anything on a stream without subjects", () => {
    expect(filterFitsStream("anything.>", [])).toBe(true);
  });
});
