import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ZERO_TIME, ZERO_TIME_MS, formatTime, msToNanos, nanosToMs, parseTime } from "../../../src/task/index.js";

describe("formatTime (Go RFC3339Nano)", () => {
  it.each([
    ["2026-05-01T10:00:00.123Z", "2026-05-01T10:00:00.123Z"],
    ["2026-05-01T10:00:00.000Z", "2026-05-01T10:00:00Z"],
    ["2026-05-01T10:00:00.100Z", "2026-05-01T10:00:00.1Z"],
    ["2026-05-01T10:00:00.120Z", "2026-05-01T10:00:00.12Z"],
    ["0001-01-01T00:00:00.000Z", ZERO_TIME],
  ])("%s → %s", (iso, want) => {
    expect(formatTime(new Date(iso))).toBe(want);
  });

  it("writes the zero time for undefined", () => {
    expect(formatTime(undefined)).toBe("0001-01-01T00:00:00Z");
  });

  it("refuses invalid dates and years Go cannot write", () => {
    expect(() => formatTime(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => formatTime(new Date("+010000-01-01T00:00:00Z"))).toThrow(/year 10000/);
    expect(() => formatTime(new Date("-000001-01-01T00:00:00Z"))).toThrow(/year -1/);
  });
});

describe("parseTime", () => {
  it("parses what Go writes", () => {
    expect(parseTime("2026-05-01T10:00:00.123Z")?.toISOString()).toBe("2026-05-01T10:00:00.123Z");
    expect(parseTime("2026-05-01T10:00:00Z")?.toISOString()).toBe("2026-05-01T10:00:00.000Z");
  });

  it("truncates sub-millisecond digits (9 fraction digits)", () => {
    expect(parseTime("2026-05-01T10:00:00.123456789Z")?.toISOString()).toBe("2026-05-01T10:00:00.123Z");
    expect(parseTime("2026-05-01T10:00:00.999999999Z")?.toISOString()).toBe("2026-05-01T10:00:00.999Z");
    expect(parseTime("2026-05-01T10:00:00.5Z")?.toISOString()).toBe("2026-05-01T10:00:00.500Z");
  });

  it("applies offsets", () => {
    expect(parseTime("2026-05-01T12:00:00.5+02:00")?.toISOString()).toBe("2026-05-01T10:00:00.500Z");
    expect(parseTime("2026-05-01T05:30:00-04:30")?.toISOString()).toBe("2026-05-01T10:00:00.000Z");
  });

  it("reads every notation of the zero time as undefined", () => {
    expect(parseTime(ZERO_TIME)).toBeUndefined();
    expect(parseTime("0001-01-01T00:00:00.000000000Z")).toBeUndefined();
    expect(parseTime("0001-01-01T02:00:00+02:00")).toBeUndefined();
    expect(parseTime("0001-01-01T00:00:00.000000001Z")?.getTime()).toBe(ZERO_TIME_MS);
  });

  it("keeps years 0–99 (no 1900 mapping) and leap days", () => {
    expect(parseTime("0050-03-04T00:00:00Z")?.getUTCFullYear()).toBe(50);
    expect(parseTime("2024-02-29T00:00:00Z")?.getUTCDate()).toBe(29);
  });

  it.each([
    "",
    "2026-05-01",
    "2026-05-01 10:00:00Z",
    "2026-05-01T10:00:00",
    "2026-05-01T10:00:00.Z",
    "2026-05-01T10:00:00.1234567890Z",
    "2026-13-01T10:00:00Z",
    "2026-02-29T10:00:00Z",
    "2026-04-31T10:00:00Z",
    "2026-05-01T24:00:00Z",
    "2026-05-01T10:60:00Z",
    "2026-05-01T10:00:60Z",
    "2026-05-01T10:00:00+24:00",
    "2026-05-01T10:00:00+0200",
    "garbage",
  ])("rejects %j with a message", (s) => {
    expect(() => parseTime(s)).toThrow(/RFC 3339/);
  });

  it("property: parseTime(formatTime(d)) is d (ms precision)", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("0001-01-01T00:00:00.001Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true }), (d) => {
        expect(parseTime(formatTime(d))?.getTime()).toBe(d.getTime());
      }),
    );
  });
});

describe("parseTime: the fast UTC path agrees with the general one", () => {
  // The same instant written with a "+00:00" offset always takes the general (regex) path.
  const viaOffset = (s: string): number | undefined => parseTime(s.replace(/Z$/, "+00:00"))?.getTime();

  it("property: any Z time with 0–9 fraction digits parses as its +00:00 twin", () => {
    const date = fc.date({ min: new Date("0100-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true });
    fc.assert(
      fc.property(date, fc.stringMatching(/^[0-9]{0,9}$/), (d, frac) => {
        const s = `${d.toISOString().slice(0, 19)}${frac === "" ? "" : `.${frac}`}Z`;
        expect(parseTime(s)?.getTime()).toBe(viaOffset(s));
      }),
    );
  });

  it.each(["2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567890Z", "2026-01-01t00:00:00Z", "2026-01-01T00:00:0xZ"])(
    "refuses %s like the general path",
    (s) => {
      expect(() => parseTime(s)).toThrow(/RFC 3339/);
    },
  );
});

describe("durations", () => {
  it("converts ms to integer ns and back", () => {
    expect(msToNanos(1000)).toBe(1_000_000_000);
    expect(msToNanos(60_000)).toBe(60_000_000_000);
    expect(msToNanos(0.0015)).toBe(1500);
    expect(nanosToMs(1_000_000_000)).toBe(1000);
    expect(nanosToMs(1500)).toBe(0.0015);
  });

  it("rejects what has no integer-ns form", () => {
    expect(() => msToNanos(-1)).toThrow(RangeError);
    expect(() => msToNanos(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => msToNanos(1e10)).toThrow(/too long/);
    expect(() => nanosToMs(-1)).toThrow(RangeError);
    expect(() => nanosToMs(1.5)).toThrow(RangeError);
    expect(() => nanosToMs(Number.NaN)).toThrow(RangeError);
  });
});
