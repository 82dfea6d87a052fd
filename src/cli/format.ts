/**
 * Shared formatting of ebctl (reference §4.1): `HumanDuration`, `Age`, byte sizes, Go duration
 * parsing for flags such as `--since 1h30m` and `--timeout 10s`, RFC 3339 times.
 * @module
 */

/** Shown for a zero or negative duration and for an unset time. */
export const NO_VALUE = "—";

/**
 * Go's `time.Duration.String()` for a whole number of seconds (`2m3s`, `1h0m5s`, `45s`).
 * @param seconds a whole number ≥ 1.
 */
function goSeconds(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/**
 * `HumanDuration` (reference §4.1): ≤ 0 ⇒ `—`; < 1 µs `Nns`; < 1 ms `x.xµs`; < 1 s `x.xms`;
 * < 1 min `x.xxs`; else whole seconds in Go's form (`2m3s`).
 * @param ms the duration in milliseconds (fractions allowed).
 */
export function humanDuration(ms: number): string {
  if (!(ms > 0)) return NO_VALUE;
  const ns = ms * 1e6;
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)}µs`;
  if (ns < 1e9) return `${ms.toFixed(1)}ms`;
  if (ns < 60e9) return `${(ms / 1000).toFixed(2)}s`;
  return goSeconds(Math.floor(ms / 1000));
}

/**
 * `Age(t)` (reference §4.1): the time since `t` as {@link humanDuration}; unset ⇒ `—`.
 * @param now the current time in ms since the epoch. @default Date.now()
 */
export function age(t: Date | undefined, now: number = Date.now()): string {
  if (t === undefined || t.getTime() <= -62135596800000) return NO_VALUE;
  return humanDuration(now - t.getTime());
}

/** A byte count, 1024-based: `512B`, `1.5KB`, `3.2MB`, … (reference §4.2 `stream ls`). */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ["KB", "MB", "GB", "TB", "PB", "EB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)}${units[i]!}`;
}

/** RFC 3339 in UTC to the second (`2026-01-02T03:04:05Z`), as Go's `time.RFC3339` prints a UTC time. */
export function rfc3339(t: Date): string {
  return t.toISOString().replace(/\.\d{3}Z$/, "Z");
}

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go duration (`10s`, `1h30m`, `250ms`, `1.5h`; `0` alone is allowed) into milliseconds.
 * @throws Error `invalid duration "<text>"` for anything else (negative durations included).
 */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = re.lastIndex;
  }
  if (at === 0 || at !== s.length) throw new Error(`invalid duration "${text}"`);
  return total;
}
