/**
 * Error messages of `ebind/observe` and `ebind/prometheus` for wrongly typed values: a string shows
 * as a string (`got "2000" (a string)`), never as the number it looks like.
 */
import { describe, expect, it } from "vitest";
import { serveObservability } from "../../../src/observe/index.js";
import { openTelemetry } from "../../../src/observe/otel/index.js";
import { prometheusMetrics } from "../../../src/observe/prometheus/index.js";
import { shown } from "../../../src/observe/shown.js";

const invalid = (message: string): unknown => expect.objectContaining({ code: "invalid_argument", message });

describe("messages of wrongly typed options", () => {
  it("prometheusMetrics shows a string as a string", () => {
    expect(() => prometheusMetrics({ scrapeTimeoutMs: "2000" as never })).toThrow(invalid('prometheusMetrics: scrapeTimeoutMs must be a positive number of ms, got "2000" (a string)'));
    expect(() => prometheusMetrics({ dagStatusRefreshMs: "0" as never })).toThrow(invalid('prometheusMetrics: dagStatusRefreshMs must be a number of ms ≥ 0, got "0" (a string)'));
    expect(() => prometheusMetrics({ durationBucketsMs: [10, "50"] as never })).toThrow(invalid('prometheusMetrics: durationBucketsMs must be a non-empty array of positive, increasing numbers of ms, got [10, "50" (a string)]'));
    expect(() => prometheusMetrics({ prefix: 5 as never })).toThrow(invalid("prometheusMetrics: prefix must be letters, digits, '_' or ':' not starting with a digit, got 5"));
  });

  it("serveObservability shows a string port as a string", async () => {
    await expect(serveObservability({ port: "9470" as never, worker: { health: () => ({}) as never } })).rejects.toThrow(
      invalid('serveObservability: port must be an integer in 0..65535, got "9470" (a string)'),
    );
  });

  it("openTelemetry shows a string as a string", () => {
    expect(() => openTelemetry({ maxLinkedTasks: "8" as never })).toThrow(invalid('otel.maxLinkedTasks must be an integer ≥ 0, got "8" (a string)'));
  });
});

describe("shown", () => {
  it("tells each type apart", () => {
    expect(shown("2000")).toBe('"2000" (a string)');
    expect(shown(2000)).toBe("2000");
    expect(shown(Number.NaN)).toBe("NaN");
    expect(shown(10n)).toBe("10n (a bigint)");
    expect(shown(true)).toBe("true (a boolean)");
    expect(shown(null)).toBe("null");
    expect(shown(undefined)).toBe("undefined");
    expect(shown([1, "2"])).toBe('[1, "2" (a string)]');
    expect(shown({ a: 1 })).toBe("an object");
    expect(shown(new Date(0))).toBe("a Date");
    expect(shown(() => 1)).toBe("a function");
    expect(shown("x".repeat(100))).toBe(`"${"x".repeat(60)}…" (a string of 100 characters)`);
  });
});
