/**
 * Worker options refuse claims no target could name (issue 12 fuzzing: a claim with a lone
 * surrogate shared its subject token with another claim's; an over-long one failed its consumer).
 */
import { describe, expect, it } from "vitest";
import { resolveWorkerOptions } from "../../../src/worker/options.js";

describe("worker options: claims", () => {
  it("refuses a claim with a lone surrogate, naming it", () => {
    expect(() => resolveWorkerOptions({ claims: ["gpu", "a\ud800"] })).toThrow(/worker\.claims\[1\] .* lone surrogate/);
  });

  it("refuses a claim longer than a claim's durable can carry", () => {
    expect(() => resolveWorkerOptions({ claims: ["x".repeat(181)] })).toThrow(/worker\.claims\[0\] .* longer than 180 UTF-8 bytes/);
  });

  it("accepts and trims ordinary claims", () => {
    expect(() => resolveWorkerOptions({ claims: [" gpu ", "eu-west"] })).not.toThrow();
  });
});
