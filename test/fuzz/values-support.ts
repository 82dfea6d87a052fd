/**
 * Fuzzing support for argument and result values: the arbitraries (fast-check's `anything` plus the
 * odd cases of issue 12), the oracle (what JSON is documented to deliver for a value) and a reader of
 * the paths that `arg_type` / `marshal result` messages name.
 * @module
 */
import fc from "fast-check";
import { expect } from "vitest";
import { findUnfaithfulJson } from "../../src/task/index.js";

class Point {
  constructor(readonly x: number) {}
}
class Money {
  constructor(readonly cents: number) {}
  toJSON(): string {
    return `${this.cents}c`;
  }
}

/** One UTF-16 unit or code point, lone surrogates and NUL included. */
const oddUnit = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.constant("\u0000"),
  fc.constantFrom('"', "\\", "\u2028", "\ufeff", "<", "&"),
);

/** Strings with lone surrogates, NUL bytes, quotes and line separators. */
export const oddString = fc.string({ unit: oddUnit, maxLength: 24 });

/** The explicit odd cases of issue 12 and the brief, each a fresh value (some are mutable). */
export const oddValue: fc.Arbitrary<unknown> = fc.constantFrom<() => unknown>(
  () => -0,
  () => Number.NaN,
  () => Number.POSITIVE_INFINITY,
  () => Number.NEGATIVE_INFINITY,
  () => Number.MAX_VALUE,
  () => Number.MIN_VALUE,
  () => 2 ** 53 + 2,
  () => 10n,
  () => new Date(0),
  () => new Date(Number.NaN),
  () => new Map([["a", 1]]),
  () => new Set([1]),
  () => undefined,
  () => Symbol("s"),
  () => () => 1,
  // eslint-disable-next-line no-sparse-arrays
  () => [1, , 3],
  () => [undefined],
  () => "\ud800",
  () => "a\u0000b",
  () => "x".repeat(70_000),
  () => ({ deep: { p: new Point(1) } }),
  () => new Money(5),
  () => ({ toJSON: () => Number.NaN }),
  () => ({ toJSON: () => undefined }),
  () => ({ toJSON: () => new Map() }),
  () => ({ toJSON: () => -0 }),
  () => new Number(-0),
  () => new String("s"),
  () => new Boolean(false),
  () => Object(1n) as unknown,
  () => Object.create(null) as unknown,
  () => ({ [Symbol("k")]: 1, a: 1 }),
  () => new Uint8Array(2),
  () => ({ a: undefined, b: 1 }),
  () => ({ ["__proto__"]: 1 }),
  () => JSON.parse('{"__proto__": {"x": -0}}') as unknown,
).map((make) => make());

/** `anything()` with every option on, odd strings and the odd cases as leaves, and sometimes a cycle. */
export const anyValue: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.anything({
      key: fc.oneof(oddString, fc.constantFrom("__proto__", "constructor", "toJSON", "", "0", "-0", "a b", "length")),
      values: [oddString, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), oddValue],
      maxDepth: 3,
      maxKeys: 4,
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withBigInt: true,
      withDate: true,
      withTypedArray: true,
      withSparseArray: true,
    }),
    fc.integer({ min: 0, max: 9 }),
  )
  .map(([v, n]) => {
    if (n !== 0) return v;
    const holder: Record<string, unknown> = { v };
    holder.again = [holder];
    return holder;
  });

function isPlainish(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * What JSON is documented to deliver for a value `findUnfaithfulJson` accepts: a `toJSON` replaced by
 * its output (a `Date` by its ISO text), boxed primitives unboxed, object properties whose value is
 * `undefined` left out, every object plain. Numbers are kept as they are, `-0` included.
 */
export function expectedJsonForm(v: unknown, key = ""): unknown {
  if (v !== null && (typeof v === "object" || typeof v === "function") && typeof (v as { toJSON?: unknown }).toJSON === "function") {
    v = (v as { toJSON: (k: string) => unknown }).toJSON(key);
  }
  if (v instanceof Number || v instanceof String || v instanceof Boolean) return v.valueOf();
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return (v as unknown[]).map((item, i) => expectedJsonForm(item, String(i)));
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    const item = expectedJsonForm((v as Record<string, unknown>)[k], k);
    if (item !== undefined) Object.defineProperty(out, k, { value: item, enumerable: true });
  }
  return out;
}

/** Deep equality with `Object.is` on primitives (`-0` is not `0`); objects compared as plain key sets. */
export function sameJsonValue(a: unknown, b: unknown, at = "value"): string | undefined {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) {
    return Object.is(a, b) ? undefined : `${at}: ${describe(a)} ≠ ${describe(b)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${at}: array vs object`;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return `${at}: length ${a.length} ≠ ${bb.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = sameJsonValue(a[i], bb[i], `${at}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (!isPlainish(a) || !isPlainish(b)) return `${at}: not a plain object`;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join("\u0001") !== kb.join("\u0001") || ka.length !== kb.length) return `${at}: keys ${JSON.stringify(ka)} ≠ ${JSON.stringify(kb)}`;
  for (const k of ka) {
    const d = sameJsonValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}[${JSON.stringify(k)}]`);
    if (d !== undefined) return d;
  }
  return undefined;
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

const IDENT = /^\.([A-Za-z_$][\w$]*)/;

/**
 * Reads the path at the start of a message such as `arg 0.a["b c"][3]: BigInt cannot…` (after
 * `prefix`), follows it in `root`, and checks that it ends on something JSON cannot carry: a value
 * `findUnfaithfulJson` refuses on its own, an array hole, the back edge of a cycle, or a `toJSON`
 * output (path suffix ` (toJSON)`) that is refused.
 */
export function expectPathNamesTheProblem(message: string, prefix: string, root: unknown): void {
  const at = message.indexOf(prefix);
  expect(at, `message names ${prefix}: ${message}`).toBeGreaterThanOrEqual(0);
  let rest = message.slice(at + prefix.length);
  let holder: unknown;
  let key: string | number | undefined;
  let value = root;
  const ancestors: unknown[] = [];
  for (;;) {
    let next: string | number;
    const ident = IDENT.exec(rest);
    if (ident) {
      next = ident[1] ?? "";
      rest = rest.slice(ident[0].length);
    } else if (rest.startsWith('["')) {
      // A JSON string key: find its closing quote (skipping escapes).
      let i = 2;
      while (rest[i] !== '"') i += rest[i] === "\\" ? 2 : 1;
      next = JSON.parse(rest.slice(1, i + 1)) as string;
      expect(rest[i + 1]).toBe("]");
      rest = rest.slice(i + 2);
    } else if (/^\[\d+\]/.test(rest)) {
      const m = /^\[(\d+)\]/.exec(rest) as RegExpExecArray;
      next = Number(m[1]);
      rest = rest.slice(m[0].length);
    } else {
      break;
    }
    expect(value !== null && typeof value === "object", `path ${message} goes through an object`).toBe(true);
    ancestors.push(value);
    holder = value;
    key = next;
    value = (value as Record<string | number, unknown>)[next];
  }
  const viaToJson = rest.startsWith(" (toJSON)");
  if (viaToJson) rest = rest.slice(" (toJSON)".length);
  expect(rest.startsWith(": "), `path ends with ": " in ${message}`).toBe(true);
  const problem = rest.slice(2);
  if (/hole/.test(problem)) {
    expect(Array.isArray(holder) && !((key as number) in (holder as unknown[]))).toBe(true);
    return;
  }
  if (/cycle/.test(problem)) {
    expect(ancestors.includes(value), `a cycle's path ends on an ancestor: ${message}`).toBe(true);
    return;
  }
  if (viaToJson) value = (value as { toJSON: (k: string) => unknown }).toJSON(key === undefined ? "" : String(key));
  const inArray = holder === undefined || Array.isArray(holder);
  const own = inArray ? findUnfaithfulJson(value, "x") : findUnfaithfulJson({ k: value }, "x");
  expect(own, `the value at the path is refused on its own: ${message}`).toBeDefined();
}

/** Collects unhandled rejections and uncaught exceptions while installed (restore with the returned function). */
export function watchCrashes(): { crashes: unknown[]; restore: () => void } {
  const crashes: unknown[] = [];
  const onRejection = (reason: unknown): void => void crashes.push(reason);
  const onException = (err: unknown): void => void crashes.push(err);
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return {
    crashes,
    restore: () => {
      process.off("unhandledRejection", onRejection);
      process.off("uncaughtException", onException);
    },
  };
}
