/**
 * Go-compatible times and durations (reference §2.1): times are RFC 3339 strings as Go's
 * `time.Time` writes them (RFC3339Nano), with `0001-01-01T00:00:00Z` meaning "unset"; durations are
 * integer nanoseconds. The TypeScript side uses `Date` and milliseconds.
 * @module
 */

/** Go's zero `time.Time` as JSON: written where a time is unset, read back as `undefined`. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** {@link ZERO_TIME} as milliseconds since the epoch. */
export const ZERO_TIME_MS = -62_135_596_800_000;

/**
 * Formats a time as Go's RFC3339Nano in UTC: `2026-05-01T10:00:00.123Z`, trailing zeros of the
 * fraction dropped, no fraction at all on a whole second (`2026-05-01T10:00:00Z`).
 *
 * @param d the time; `undefined` gives {@link ZERO_TIME}.
 * @throws {RangeError} for an invalid `Date` or a year outside 0000 … 9999 (Go refuses those too).
 */
export function formatTime(d: Date | undefined): string {
  if (d === undefined) return ZERO_TIME;
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError("cannot format an invalid Date as RFC 3339");
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`cannot format year ${year} as RFC 3339 (range 0000 … 9999)`);
  const iso = d.toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ for years 0 … 9999
  // Drop the fraction's trailing zeros (and the dot when nothing is left), as Go does.
  if (iso.charCodeAt(22) !== ZERO) return iso;
  if (iso.charCodeAt(21) !== ZERO) return `${iso.slice(0, 22)}Z`;
  if (iso.charCodeAt(20) !== ZERO) return `${iso.slice(0, 21)}Z`;
  return `${iso.slice(0, 19)}Z`;
}

const ZERO = 48; // "0"

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 time as Go writes or accepts it: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of
 * 1–9 digits, then `Z` or a `±hh:mm` offset.
 *
 * `Date` holds milliseconds: digits after the third of the fraction are dropped (truncated, not
 * rounded). The zero time, in any notation (`0001-01-01T00:00:00Z`, `0001-01-01T02:00:00+02:00`,
 * `…00.000000000Z`), gives `undefined`.
 *
 * @throws {Error} saying what is wrong, for anything else (callers turn it into a decode error).
 */
export function parseTime(s: string): Date | undefined {
  if (s === ZERO_TIME) return undefined; // every unset deadline
  const fast = parseUtcFast(s);
  if (fast !== undefined) return fast;
  const m = RFC3339.exec(s);
  if (m === null) throw new Error(`not an RFC 3339 time: ${JSON.stringify(s)}`);
  const [, ys, mos, ds, hs, mis, ss, frac = "", z, sign, ohs, oms] = m;
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  const hour = Number(hs);
  const minute = Number(mis);
  const second = Number(ss);
  if (month < 1 || month > 12) throw new Error(`RFC 3339 time ${JSON.stringify(s)}: month out of range`);
  if (day < 1 || day > daysIn(year, month)) throw new Error(`RFC 3339 time ${JSON.stringify(s)}: day out of range`);
  if (hour > 23 || minute > 59 || second > 59) {
    throw new Error(`RFC 3339 time ${JSON.stringify(s)}: time of day out of range`);
  }
  let offsetMinutes = 0;
  if (z === undefined) {
    const oh = Number(ohs);
    const om = Number(oms);
    if (oh > 23 || om > 59) throw new Error(`RFC 3339 time ${JSON.stringify(s)}: offset out of range`);
    offsetMinutes = (sign === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Number(frac.slice(0, 3).padEnd(3, "0"));
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // unlike Date.UTC, keeps years 0 … 99 as they are
  d.setUTCHours(hour, minute, second, ms);
  const t = d.getTime() - offsetMinutes * 60_000;
  if (t === ZERO_TIME_MS && /^0*$/.test(frac.slice(3))) return undefined;
  return new Date(t);
}

/** Two or four ASCII digits at `i` as a number, or -1. */
function digits(s: string, i: number, n: 2 | 4): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k) - ZERO;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * The common case without the regular expression: `YYYY-MM-DDTHH:MM:SS[.f…]Z`, year ≥ 100, a
 * valid date and time. Anything else (offsets, the zero time, out-of-range fields) returns
 * undefined and takes the general path, which also produces the error messages.
 */
function parseUtcFast(s: string): Date | undefined {
  const n = s.length;
  if (n < 20 || n > 30 || s.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (s[4] !== "-" || s[7] !== "-" || s[10] !== "T" || s[13] !== ":" || s[16] !== ":") return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return undefined;
  }
  if (day > daysIn(year, month)) return undefined;
  let ms = 0;
  if (n > 20) {
    if (s[19] !== "." || n === 21) return undefined;
    for (let k = 20; k < n - 1; k++) {
      const c = s.charCodeAt(k) - ZERO;
      if (c < 0 || c > 9) return undefined;
      if (k < 23) ms = ms * 10 + c;
    }
    for (let k = Math.min(n - 1, 23); k < 23; k++) ms *= 10; // fewer than three digits
  } else if (s[19] !== "Z") {
    return undefined;
  }
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Milliseconds to whole nanoseconds (rounded to the nearest), as Go's `time.Duration` travels.
 * @throws {RangeError} for a negative or non-finite value, or one above 2^53 ns (≈ 104 days), which
 *   JSON could not carry as an exact integer.
 */
export function msToNanos(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`duration must be a finite number of ms ≥ 0, got ${ms}`);
  const ns = Math.round(ms * 1e6);
  if (!Number.isSafeInteger(ns)) throw new RangeError(`duration of ${ms} ms is too long to carry as integer nanoseconds`);
  return ns;
}

/**
 * Nanoseconds (Go `time.Duration`) to milliseconds, possibly fractional (1500 ns → 0.0015 ms).
 * @throws {RangeError} for a negative, non-finite or non-integer value.
 */
export function nanosToMs(ns: number): number {
  if (!Number.isInteger(ns) || ns < 0) throw new RangeError(`duration must be an integer number of ns ≥ 0, got ${ns}`);
  return ns / 1e6;
}
