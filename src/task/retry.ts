/**
 * Retry policy: exponential backoff, an attempt limit and error kinds that are never retried.
 * Pure and deterministic (no jitter). Reference: ebind-reference.md §1.1 (RetryPolicy), §2.6.2 (wire
 * shape), §3.3 (how the worker uses it).
 * @module
 */
import { EbindError, type TaskError, type TaskErrorData } from "./errors.js";

/**
 * The largest delay a timer can hold: `setTimeout` fires at once for anything above 2^31−1 ms
 * (about 24.8 days). {@link RetryPolicy.nextDelay} never returns more.
 */
export const MAX_DELAY_MS = 2_147_483_647;

/**
 * The largest interval, in ms, that survives the wire: intervals travel as integer nanoseconds, and a
 * JavaScript number holds integers exactly only up to 2^53 (≈ 104 days of nanoseconds).
 */
export const MAX_WIRE_INTERVAL_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1e6);

/** A retry policy as plain data (the TypeScript form of the wire document, reference §2.6.2). */
export interface RetryPolicyData {
  /** Delay before the first retry, in ms. `0` means retry immediately. Range 0 … {@link MAX_WIRE_INTERVAL_MS}. */
  readonly initialIntervalMs: number;
  /** Growth factor per attempt (`2` doubles each delay). `0` counts as `1`: a constant delay. */
  readonly backoffCoefficient: number;
  /** Upper bound on one delay, in ms. `0` means no bound (other than {@link MAX_DELAY_MS}). */
  readonly maximumIntervalMs: number;
  /** Total attempts allowed, the first delivery included. `0` means unlimited. */
  readonly maximumAttempts: number;
  /** Error kinds that are never retried, whatever `retryable` says. */
  readonly nonRetryableErrorKinds?: readonly string[] | undefined;
}

/** Options for {@link RetryPolicy}: every field optional, missing ones take the default policy's value. */
export type RetryPolicyOptions = Partial<RetryPolicyData>;

/** The default policy's values: 5 attempts, 1 s doubling each time, capped at 60 s. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicyData> = Object.freeze({
  initialIntervalMs: 1000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
  maximumAttempts: 5,
});

/**
 * An immutable, validated retry policy.
 *
 * @example
 * const policy = new RetryPolicy({ maximumAttempts: 10, nonRetryableErrorKinds: ["validation"] });
 * policy.nextDelay(3); // 4000 (ms)
 */
export class RetryPolicy implements RetryPolicyData {
  /** @inheritdoc */
  readonly initialIntervalMs: number;
  /** @inheritdoc */
  readonly backoffCoefficient: number;
  /** @inheritdoc */
  readonly maximumIntervalMs: number;
  /** @inheritdoc */
  readonly maximumAttempts: number;
  /** @inheritdoc */
  readonly nonRetryableErrorKinds?: readonly string[] | undefined;

  /**
   * @param options missing fields take the values of {@link DEFAULT_RETRY_POLICY}; the object is
   *   copied, never kept or changed.
   * @throws {EbindError} `invalid_argument` when `options` is not an object; naming the field, when an interval is not a finite number
   *   in 0 … {@link MAX_WIRE_INTERVAL_MS}, the coefficient is negative or NaN (`Infinity` is allowed),
   *   `maximumAttempts` is not a safe integer ≥ 0, or `nonRetryableErrorKinds` is not an array of strings.
   */
  constructor(options: RetryPolicyOptions = {}) {
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new EbindError("invalid_argument", `retry policy must be an object of options, got ${options === null ? "null" : typeof options}`);
    }
    const d = DEFAULT_RETRY_POLICY;
    this.initialIntervalMs = checkInterval("initialIntervalMs", options.initialIntervalMs ?? d.initialIntervalMs);
    this.backoffCoefficient = checkCoefficient(options.backoffCoefficient ?? d.backoffCoefficient);
    this.maximumIntervalMs = checkInterval("maximumIntervalMs", options.maximumIntervalMs ?? d.maximumIntervalMs);
    this.maximumAttempts = checkAttempts(options.maximumAttempts ?? d.maximumAttempts);
    this.nonRetryableErrorKinds = checkKinds(options.nonRetryableErrorKinds);
    Object.freeze(this);
  }

  /**
   * Returns `data` itself when it already is a `RetryPolicy`, else a new validated policy
   * (missing fields take the defaults). @throws {EbindError} as the constructor.
   */
  static from(data: RetryPolicyData | RetryPolicyOptions): RetryPolicy {
    return data instanceof RetryPolicy ? data : new RetryPolicy(data);
  }

  /**
   * The wait before the retry that follows failed attempt `attempt` (1-based), in ms, following
   * reference §1.1 `NextDelay`:
   * 1. `attempt` < 1 (or NaN) → 0; fractional attempts are rounded down;
   * 2. `initialIntervalMs` ≤ 0 → 0;
   * 3. a coefficient ≤ 0 counts as 1;
   * 4. raw = initial × coefficient^(attempt−1), in floating point;
   * 5. raw infinite or above {@link MAX_DELAY_MS} → `maximumIntervalMs` when > 0, else `MAX_DELAY_MS`
   *    (where Go returns max int64, which no JavaScript timer can hold);
   * 6. `maximumIntervalMs` > 0 and raw above it → `maximumIntervalMs`;
   * 7. else raw, unrounded (milliseconds may be fractional; Go truncates to whole nanoseconds).
   *
   * No jitter. The result is always a number in 0 … {@link MAX_DELAY_MS}, never NaN.
   */
  nextDelay(attempt: number): number {
    const n = Math.floor(attempt);
    if (!(n >= 1)) return 0;
    const initial = this.initialIntervalMs;
    if (!(initial > 0)) return 0;
    const coefficient = this.backoffCoefficient > 0 ? this.backoffCoefficient : 1;
    // 1^Infinity is NaN in JavaScript; a constant policy stays constant for any attempt.
    const raw = coefficient === 1 ? initial : initial * coefficient ** (n - 1);
    const cap = this.maximumIntervalMs;
    if (!(raw <= MAX_DELAY_MS)) return cap > 0 ? Math.min(cap, MAX_DELAY_MS) : MAX_DELAY_MS;
    if (cap > 0 && raw > cap) return cap;
    return raw;
  }

  /**
   * Whether a task that failed with `err` on attempt `attempt` (1-based delivery count) may be
   * delivered again. Rules, first match wins (reference §1.1 `ShouldRetry`):
   * 1. no error → `false`;
   * 2. `maximumAttempts` > 0 and `attempt` ≥ `maximumAttempts` → `false`;
   * 3. `err.retryable` is false → `false`;
   * 4. `err.kind` is listed in `nonRetryableErrorKinds` → `false`;
   * 5. otherwise `true` (with `maximumAttempts` 0: always, for a retryable allowed kind).
   */
  shouldRetry(err: TaskError | TaskErrorData | undefined | null, attempt: number): boolean {
    if (err === undefined || err === null) return false;
    if (this.maximumAttempts > 0 && attempt >= this.maximumAttempts) return false;
    if (!err.retryable) return false;
    if (this.nonRetryableErrorKinds?.includes(err.kind) === true) return false;
    return true;
  }

  /** A plain, frozen copy of the policy's data (no methods), e.g. to put in an envelope. */
  toData(): RetryPolicyData {
    const data: RetryPolicyData = {
      initialIntervalMs: this.initialIntervalMs,
      backoffCoefficient: this.backoffCoefficient,
      maximumIntervalMs: this.maximumIntervalMs,
      maximumAttempts: this.maximumAttempts,
      ...(this.nonRetryableErrorKinds === undefined ? {} : { nonRetryableErrorKinds: this.nonRetryableErrorKinds }),
    };
    return Object.freeze(data);
  }
}

/** The default policy: 5 attempts, delays 1 s, 2 s, 4 s, 8 s (×2 from 1 s, capped at 60 s). Reference §1.1. */
export function defaultRetryPolicy(): RetryPolicy {
  return new RetryPolicy();
}

/**
 * A policy that never retries: `maximumAttempts` 1, every other number 0, so any failure is final.
 * Wire form: `{"initial_interval":0,"backoff_coefficient":0,"maximum_interval":0,"maximum_attempts":1}`.
 */
export function noRetryPolicy(): RetryPolicy {
  return new RetryPolicy({ initialIntervalMs: 0, backoffCoefficient: 0, maximumIntervalMs: 0, maximumAttempts: 1 });
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  return String(value);
}

function invalid(field: string, rule: string, value: unknown): EbindError {
  return new EbindError("invalid_argument", `retry.${field} must be ${rule}, got ${show(value)}`);
}

function checkInterval(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_WIRE_INTERVAL_MS) {
    throw invalid(field, `a finite number of ms in 0 … ${MAX_WIRE_INTERVAL_MS}`, value);
  }
  return value;
}

function checkCoefficient(value: unknown): number {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw invalid("backoffCoefficient", "a number ≥ 0 (0 means 1; Infinity is allowed)", value);
  }
  return value;
}

function checkAttempts(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalid("maximumAttempts", "an integer ≥ 0", value);
  }
  return value;
}

function checkKinds(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalid("nonRetryableErrorKinds", "an array of strings", value);
  const kinds: string[] = [];
  for (const [i, kind] of value.entries()) {
    if (typeof kind !== "string") throw invalid(`nonRetryableErrorKinds[${i}]`, "a string", kind);
    kinds.push(kind);
  }
  return Object.freeze(kinds);
}
