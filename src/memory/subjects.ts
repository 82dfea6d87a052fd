/**
 * NATS subject patterns in process: `*` matches one token, `>` one or more trailing tokens.
 * Used for stream subjects, consumer filters, purge filters and KV key filters.
 * @module
 */
import { EbindError } from "../task/errors.js";

export { patternIsSubset } from "../broker/subjects.js";

/** True when `subject` (no wildcards) matches `pattern`. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === ">") return s.length > i;
    if (i >= s.length) return false;
    if (token !== "*" && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/** True when some subject matches both patterns (NATS refuses overlapping stream subjects and work-queue filters). */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split(".");
  const y = b.split(".");
  for (let i = 0; i < x.length && i < y.length; i++) {
    const s = x[i];
    const t = y[i];
    if (s === ">" || t === ">") return true;
    if (s !== "*" && t !== "*" && s !== t) return false;
  }
  return x.length === y.length;
}

/**
 * Checks a subject or pattern: non-empty tokens without spaces; with `wildcards`, `*` tokens and a
 * final `>` are allowed.
 * @throws EbindError `invalid_argument` naming `what`.
 */
export function checkSubject(subject: string, what: string, wildcards: boolean): void {
  const tokens = subject.split(".");
  const ok = tokens.every((t, i) => {
    if (t.length === 0 || /\s/.test(t)) return false;
    if (t === "*") return wildcards;
    if (t === ">") return wildcards && i === tokens.length - 1;
    return !t.includes("*") && !t.includes(">");
  });
  if (!ok) throw new EbindError("invalid_argument", `${what}: invalid subject ${JSON.stringify(subject)}`);
}
