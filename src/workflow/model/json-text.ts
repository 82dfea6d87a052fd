/**
 * Writing a value the workflow layer stores as raw JSON (a literal step argument, a ref's default, a
 * signal payload) so that `-0` survives (issue 12): `JSON.stringify` writes it as `0`, while JSON
 * allows the text `-0`, `JSON.parse` reads it back as `-0`, and Go writes it too. Pure.
 *
 * The task layer carries `-0` the same way in arguments and results; once both have landed, this
 * and the task layer's writer are one behaviour and may be one function.
 * @module
 */

/** Whether `x` is `-0` (a number, or a boxed one). */
function isNegativeZero(x: unknown): boolean {
  return (typeof x === "number" || x instanceof Number) && Object.is(x.valueOf(), -0);
}

/**
 * Whether a `-0` occurs in `value`, looking through arrays and plain objects (not into values with
 * a `toJSON`, whose JSON form is their own). A cycle ends its branch (callers refuse cycles).
 */
function holdsNegativeZero(value: unknown): boolean {
  const seen = new Set<object>();
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const x = pending.pop();
    if (isNegativeZero(x)) return true;
    if (typeof x !== "object" || x === null || x instanceof Number || seen.has(x)) continue;
    if (typeof (x as { toJSON?: unknown }).toJSON === "function") continue;
    seen.add(x);
    pending.push(...(Array.isArray(x) ? (x as unknown[]) : Object.values(x)));
  }
  return false;
}

/**
 * `JSON.stringify(value)`, with every `-0` written `-0`. Without a `-0` (the usual case) it is one
 * walk plus `JSON.stringify`; with one, each `-0` is first written as a unique string and that
 * string, quoted, is then replaced by `-0`.
 * @returns the JSON text, or undefined where `JSON.stringify` returns undefined.
 * @throws what `JSON.stringify` throws (a cycle, a BigInt).
 */
export function toJsonText(value: unknown): string | undefined {
  if (!holdsNegativeZero(value)) return JSON.stringify(value);
  for (let round = 0; ; round++) {
    const mark = `\u0000ebind:-0:${round}:${Math.random().toString(36).slice(2)}`;
    let marked = 0;
    const text = JSON.stringify(value, (_key, x: unknown) => (isNegativeZero(x) ? (marked++, mark) : x));
    if (text === undefined) return undefined;
    const pieces = text.split(JSON.stringify(mark));
    if (pieces.length - 1 === marked) return pieces.join("-0"); // else a string of the value held the mark: another one
  }
}
