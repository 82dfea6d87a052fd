import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EbindError,
  MAX_DELAY_MS,
  RetryPolicy,
  TaskError,
  defaultRetryPolicy,
  noRetryPolicy,
  type RetryPolicyOptions,
} from "../../../src/task/index.js";

const SECOND = 1000;
const HOUR = 3_600_000;
const retryable = new TaskError("handler", "boom", { retryable: true });

function policy(o: RetryPolicyOptions): RetryPolicy {
  return new RetryPolicy({ maximumIntervalMs: 0, ...o });
}

describe("RetryPolicy.nextDelay (reference §1.1, §7 items 9–11)", () => {
  it("is 0 for attempt 0 and -1", () => {
    const p = policy({ initialIntervalMs: SECOND, backoffCoefficient: 2 });
    expect(p.nextDelay(0)).toBe(0);
    expect(p.nextDelay(-1)).toBe(0);
    expect(p.nextDelay(Number.NaN)).toBe(0);
  });

  it("grows exponentially: 1 s ×2 gives 1, 2, 4, 8, 16 s", () => {
    const p = new RetryPolicy({ initialIntervalMs: SECOND, backoffCoefficient: 2, maximumIntervalMs: 60 * SECOND });
    expect([1, 2, 3, 4, 5].map((a) => p.nextDelay(a))).toEqual([1, 2, 4, 8, 16].map((s) => s * SECOND));
  });

  it("caps at the maximum interval: 1 s ×10 cap 3 s", () => {
    const p = new RetryPolicy({ initialIntervalMs: SECOND, backoffCoefficient: 10, maximumIntervalMs: 3 * SECOND });
    expect(p.nextDelay(1)).toBe(SECOND);
    expect(p.nextDelay(2)).toBe(3 * SECOND);
    expect(p.nextDelay(10)).toBe(3 * SECOND);
  });

  it("without a cap keeps growing: attempt 5 → 16 s", () => {
    expect(policy({ initialIntervalMs: SECOND, backoffCoefficient: 2 }).nextDelay(5)).toBe(16 * SECOND);
  });

  it("is 0 when the initial interval is 0", () => {
    const p = policy({ initialIntervalMs: 0, backoffCoefficient: 2 });
    expect(p.nextDelay(1)).toBe(0);
    expect(p.nextDelay(50)).toBe(0);
  });

  it("treats coefficient 0 as 1 (constant delay)", () => {
    const p = policy({ initialIntervalMs: SECOND, backoffCoefficient: 0 });
    expect(p.nextDelay(5)).toBe(SECOND);
    expect(p.nextDelay(Number.POSITIVE_INFINITY)).toBe(SECOND);
  });

  it("caps astronomically large growth: 1 h ×1e10, attempt 1000, cap 24 h → 24 h", () => {
    const p = new RetryPolicy({ initialIntervalMs: HOUR, backoffCoefficient: 1e10, maximumIntervalMs: 24 * HOUR });
    expect(p.nextDelay(1000)).toBe(24 * HOUR);
  });

  it("with an infinite coefficient and no cap returns the largest timer delay", () => {
    const p = policy({ initialIntervalMs: SECOND, backoffCoefficient: Number.POSITIVE_INFINITY });
    expect(p.nextDelay(1)).toBe(SECOND); // Infinity^0 = 1
    expect(p.nextDelay(2)).toBe(MAX_DELAY_MS);
    expect(p.nextDelay(1e9)).toBe(MAX_DELAY_MS);
  });

  it("never exceeds MAX_DELAY_MS, even when the cap does", () => {
    const p = new RetryPolicy({ initialIntervalMs: SECOND, backoffCoefficient: 1e6, maximumIntervalMs: 2 ** 32 });
    expect(p.nextDelay(10)).toBe(MAX_DELAY_MS);
    const big = policy({ initialIntervalMs: 3e9, backoffCoefficient: 1 });
    expect(big.nextDelay(1)).toBe(MAX_DELAY_MS);
  });

  it("keeps fractional milliseconds and rounds fractional attempts down", () => {
    const p = policy({ initialIntervalMs: 0.5, backoffCoefficient: 3 });
    expect(p.nextDelay(2)).toBe(1.5);
    expect(p.nextDelay(2.9)).toBe(1.5);
  });

  it("property: always within [0, MAX_DELAY_MS], never NaN, within the cap", () => {
    const interval = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 9e9, noNaN: true }));
    const coefficient = fc.oneof(fc.constant(0), fc.constant(Number.POSITIVE_INFINITY), fc.double({ min: 0, max: 1e12, noNaN: true }));
    const attempt = fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY));
    fc.assert(
      fc.property(interval, coefficient, interval, attempt, (initial, coef, cap, n) => {
        const p = new RetryPolicy({ initialIntervalMs: initial, backoffCoefficient: coef, maximumIntervalMs: cap });
        const d = p.nextDelay(n);
        expect(Number.isNaN(d)).toBe(false);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(MAX_DELAY_MS);
        if (cap > 0) expect(d).toBeLessThanOrEqual(cap);
        if (!(n >= 1) || initial === 0) expect(d).toBe(0);
        // (a coefficient in (0, 1) shrinks delays, possibly to 0 by underflow)
        if (n >= 1 && initial > 0 && (coef >= 1 || coef === 0)) expect(d).toBeGreaterThan(0);
      }),
    );
  });

  it("property: non-decreasing in the attempt when the coefficient is ≥ 1", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e7, noNaN: true }),
        fc.oneof(fc.double({ min: 1, max: 100, noNaN: true }), fc.constant(Number.POSITIVE_INFINITY)),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.integer({ min: 0, max: 2000 }),
        (initial, coef, cap, n) => {
          const p = new RetryPolicy({ initialIntervalMs: initial, backoffCoefficient: coef, maximumIntervalMs: cap });
          expect(p.nextDelay(n + 1)).toBeGreaterThanOrEqual(p.nextDelay(n));
        },
      ),
    );
  });
});

describe("RetryPolicy.shouldRetry (reference §1.1, §7 item 12)", () => {
  it("is false for no error", () => {
    const p = defaultRetryPolicy();
    expect(p.shouldRetry(undefined, 1)).toBe(false);
    expect(p.shouldRetry(null, 1)).toBe(false);
  });

  it("with max 5: true for attempts 0–4, false at 5 and 6", () => {
    const p = new RetryPolicy({ maximumAttempts: 5 });
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => p.shouldRetry(retryable, a))).toEqual([true, true, true, true, true, false, false]);
  });

  it("with max 0 (unlimited): always true for a retryable error", () => {
    const p = new RetryPolicy({ maximumAttempts: 0 });
    for (const a of [0, 1, 100, 10_000]) expect(p.shouldRetry(retryable, a)).toBe(true);
  });

  it("is false for a non-retryable error", () => {
    expect(new RetryPolicy().shouldRetry({ kind: "handler", message: "x", retryable: false }, 1)).toBe(false);
  });

  it("is false for listed kinds, true for others", () => {
    const p = new RetryPolicy({ maximumAttempts: 0, nonRetryableErrorKinds: ["validation", "auth"] });
    expect(p.shouldRetry({ kind: "validation", message: "", retryable: true }, 1)).toBe(false);
    expect(p.shouldRetry({ kind: "auth", message: "", retryable: true }, 1)).toBe(false);
    expect(p.shouldRetry({ kind: "handler", message: "", retryable: true }, 1)).toBe(true);
  });

  it("precedence: a listed kind blocks under the limit; the limit blocks any kind", () => {
    const p = new RetryPolicy({ maximumAttempts: 3, nonRetryableErrorKinds: ["validation"] });
    expect(p.shouldRetry({ kind: "validation", message: "", retryable: true }, 1)).toBe(false);
    expect(p.shouldRetry({ kind: "handler", message: "", retryable: true }, 3)).toBe(false);
    expect(p.shouldRetry({ kind: "handler", message: "", retryable: true }, 2)).toBe(true);
  });
});

describe("policies and options (§7 item 13)", () => {
  it("default policy: 5 attempts, 1 s, ×2, 1 min", () => {
    const p = defaultRetryPolicy();
    expect(p.toData()).toEqual({ initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 60_000, maximumAttempts: 5 });
  });

  it("no-retry policy: 1 attempt, everything else 0; no retry after attempt 1", () => {
    const p = noRetryPolicy();
    expect(p.toData()).toEqual({ initialIntervalMs: 0, backoffCoefficient: 0, maximumIntervalMs: 0, maximumAttempts: 1 });
    expect(p.shouldRetry(retryable, 1)).toBe(false);
  });

  it("fills missing options from the default, is frozen, and leaves the caller's object alone", () => {
    const kinds = ["validation"];
    const options = { maximumAttempts: 9, nonRetryableErrorKinds: kinds };
    const p = new RetryPolicy(options);
    expect(p.initialIntervalMs).toBe(1000);
    expect(p.maximumAttempts).toBe(9);
    expect(Object.isFrozen(p)).toBe(true);
    kinds.push("auth");
    expect(p.nonRetryableErrorKinds).toEqual(["validation"]);
    expect(options).toEqual({ maximumAttempts: 9, nonRetryableErrorKinds: ["validation", "auth"] });
    expect(() => {
      (p as { maximumAttempts: number }).maximumAttempts = 1;
    }).toThrow(TypeError);
  });

  it("from() returns a policy as is and builds one from data", () => {
    const p = new RetryPolicy({ maximumAttempts: 2 });
    expect(RetryPolicy.from(p)).toBe(p);
    expect(RetryPolicy.from({ maximumAttempts: 3 }).maximumAttempts).toBe(3);
  });

  it.each([
    [{ maximumAttempts: -1 }, "retry.maximumAttempts must be an integer ≥ 0, got -1"],
    [{ maximumAttempts: 1.5 }, "retry.maximumAttempts must be an integer ≥ 0, got 1.5"],
    [{ initialIntervalMs: -1 }, "retry.initialIntervalMs must be a finite number of ms"],
    [{ initialIntervalMs: Number.NaN }, "retry.initialIntervalMs must be a finite number of ms"],
    [{ maximumIntervalMs: Number.POSITIVE_INFINITY }, "retry.maximumIntervalMs must be a finite number of ms"],
    [{ maximumIntervalMs: 1e12 }, "retry.maximumIntervalMs must be a finite number of ms"],
    [{ backoffCoefficient: -2 }, "retry.backoffCoefficient must be a number ≥ 0"],
    [{ backoffCoefficient: Number.NaN }, "retry.backoffCoefficient must be a number ≥ 0"],
    [{ backoffCoefficient: "2" as unknown as number }, 'retry.backoffCoefficient must be a number ≥ 0 (0 means 1; Infinity is allowed), got "2"'],
    [{ nonRetryableErrorKinds: "x" as unknown as string[] }, "retry.nonRetryableErrorKinds must be an array of strings"],
    [{ nonRetryableErrorKinds: ["a", 3] as unknown as string[] }, "retry.nonRetryableErrorKinds[1] must be a string, got 3"],
  ])("rejects %o naming the field", (options, message) => {
    let caught: unknown;
    try {
      new RetryPolicy(options);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(EbindError);
    expect((caught as EbindError).code).toBe("invalid_argument");
    expect((caught as EbindError).message).toContain(message);
  });
});
