import { RawJson } from "./raw-json.js";

/**
 * Finds values that `JSON.stringify` would silently change or drop, so arguments and results fail
 * loudly at the producer instead of arriving as `{}` or `null` (DESIGN §4, "Serialisation").
 * @module
 */

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Appends an object key to a path: `.name` for identifiers, `["a b"]` otherwise. */
export function pathKey(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

type Frame =
  | { readonly value: unknown; readonly path: string; readonly inArray: boolean; readonly key: string; readonly fromToJson?: boolean }
  | { readonly leave: object }
  | { readonly problem: string };

/**
 * Returns a message naming the first value (depth first, in key order) that JSON cannot carry
 * faithfully, prefixed with its path, or `undefined` when `JSON.stringify(value)` round-trips.
 *
 * A {@link RawJson} is faithful by construction (it holds checked JSON text, written verbatim).
 * Refused: `bigint`, `symbol`, functions, `NaN`, `±Infinity`, `undefined` at the top or inside an
 * array, holes in sparse arrays, `Map`, `Set`, `WeakMap`, `WeakSet`, typed arrays, `DataView` and
 * `ArrayBuffer`s, cycles, an invalid `Date` (it would arrive as `null`), properties keyed by a symbol
 * (JSON drops them), and instances of classes (prototype other than `Object.prototype` or `null`)
 * without a `toJSON` method, which would arrive as plain objects. Allowed: object properties whose
 * value is `undefined` (JSON omits them, like an optional field), a valid `Date` (it arrives as its
 * ISO text), boxed primitives, and anything else with a `toJSON` method: that method is called (with
 * the key, as `JSON.stringify` does) and its output is checked by the same rules, its problems named
 * `<path> (toJSON): …`; a `toJSON` that throws is named too.
 *
 * Iterative, so deep values cannot overflow the stack.
 *
 * @param path the name of the value in messages, e.g. `"arg 1"` → `arg 1.items[3]: BigInt cannot be
 *   carried by JSON`.
 */
export function findUnfaithfulJson(value: unknown, path: string): string | undefined {
  const stack: Frame[] = [{ value, path, inArray: true, key: "" }];
  const onPath = new Map<object, string>();
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if ("leave" in frame) {
      onPath.delete(frame.leave);
      continue;
    }
    if ("problem" in frame) return frame.problem;
    const { value: v, path: p } = frame;
    const problem = primitiveProblem(v, frame.inArray);
    if (problem !== undefined) return `${p}: ${problem}`;
    if (typeof v !== "object" || v === null || v instanceof RawJson) continue; // RawJson: checked JSON text
    const ancestor = onPath.get(v);
    if (ancestor !== undefined) return `${p}: a cycle (back to ${ancestor}) cannot be carried by JSON`;
    const toJson: unknown = frame.fromToJson ? undefined : (v as { toJSON?: unknown }).toJSON;
    if (typeof toJson === "function") {
      if (v instanceof Date) {
        if (Number.isNaN(v.getTime())) return `${p}: an invalid Date cannot be carried by JSON (it would arrive as null)`;
        continue;
      }
      let out: unknown;
      try {
        out = (toJson as (key: string) => unknown).call(v, frame.key);
      } catch (e) {
        return `${p}: its toJSON method threw: ${e instanceof Error ? e.message : String(e)}`;
      }
      // JSON.stringify does not call toJSON again on the output itself, only on its members.
      if (out !== undefined || frame.inArray) stack.push({ value: out, path: `${p} (toJSON)`, inArray: frame.inArray, key: frame.key, fromToJson: true });
      continue;
    }
    const objectProblem = objectKindProblem(v);
    if (objectProblem !== undefined) return `${p}: ${objectProblem}`;
    onPath.set(v, p);
    stack.push({ leave: v });
    if (Array.isArray(v)) {
      const arr: readonly unknown[] = v;
      for (let i = arr.length - 1; i >= 0; i--) {
        // Children are pushed last-first so problems are reported in document order.
        if (!(i in arr)) {
          stack.push({ problem: `${p}[${i}]: an array hole cannot be carried by JSON (it would arrive as null)` });
          continue;
        }
        const item = arr[i];
        if ((typeof item === "object" && item !== null) || primitiveProblem(item, true) !== undefined) {
          stack.push({ value: item, path: `${p}[${i}]`, inArray: true, key: String(i) });
        }
      }
    } else {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        const item = (v as Record<string, unknown>)[key];
        if (item === undefined) continue;
        if ((typeof item === "object" && item !== null) || primitiveProblem(item, false) !== undefined) {
          stack.push({ value: item, path: pathKey(p, key), inArray: false, key });
        }
      }
      const symbolKey = Object.getOwnPropertySymbols(v).find((s) => Object.prototype.propertyIsEnumerable.call(v, s));
      if (symbolKey !== undefined) return `${p}: a property keyed by ${String(symbolKey)} cannot be carried by JSON (it would be dropped)`;
    }
  }
  return undefined;
}

function primitiveProblem(v: unknown, inArray: boolean): string | undefined {
  switch (typeof v) {
    case "bigint":
      return "BigInt cannot be carried by JSON (pass it as a string)";
    case "symbol":
      return "a symbol cannot be carried by JSON";
    case "function":
      return "a function cannot be carried by JSON";
    case "undefined":
      return inArray ? "undefined cannot be carried by JSON (it would arrive as null)" : undefined;
    case "number":
      return Number.isFinite(v) ? undefined : `${String(v)} cannot be carried by JSON (it would arrive as null)`;
    default:
      return undefined;
  }
}

function objectKindProblem(v: object): string | undefined {
  if (Array.isArray(v)) return undefined;
  if (v instanceof Map) return "a Map cannot be carried by JSON (it would arrive as {}; pass Object.fromEntries(map) or an array of entries)";
  if (v instanceof Set) return "a Set cannot be carried by JSON (it would arrive as {}; pass an array)";
  if (v instanceof WeakMap || v instanceof WeakSet) return `${withArticle(v.constructor.name)} cannot be carried by JSON`;
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || isSharedArrayBuffer(v)) {
    return `${withArticle(ctorName(v))} cannot be carried by JSON (pass base64 text or an array of numbers)`;
  }
  if (v instanceof Number) {
    const n = v.valueOf();
    return Number.isFinite(n) ? undefined : `a boxed ${String(n)} cannot be carried by JSON (it would arrive as null)`;
  }
  if (v instanceof String || v instanceof Boolean) return undefined;
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return undefined;
  return `an instance of ${ctorName(v)} cannot be carried by JSON (it would lose its prototype; give the class a toJSON method or pass a plain object)`;
}

function isSharedArrayBuffer(v: object): boolean {
  return typeof SharedArrayBuffer === "function" && v instanceof SharedArrayBuffer;
}

function withArticle(name: string): string {
  return /^[AEIO]/.test(name) ? `an ${name}` : `a ${name}`;
}

function ctorName(v: object): string {
  const ctor: unknown = (v as { constructor?: unknown }).constructor;
  return typeof ctor === "function" && ctor.name !== "" ? ctor.name : "(anonymous class)";
}

/**
 * Whether `value` may hold something `JSON.stringify` writes other than ebind must: a `-0` (written
 * as `0`) or a {@link RawJson} (written as its parsed value). Depth first through arrays and objects
 * (own enumerable string keys). A value with a `toJSON` method other than a `Date`'s — a `RawJson`
 * among them — counts as "may" (its output is seen only when it is called). Iterative and without a
 * visited set, for speed: call it only on a value `JSON.stringify` has accepted, which is acyclic.
 */
function needsVerbatimPass(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "number") {
      if (v === 0 && 1 / v < 0) return true;
      continue;
    }
    if (typeof v !== "object" || v === null) continue;
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") {
      if (v instanceof Date) continue;
      return true;
    }
    if (v instanceof Number) {
      if (Object.is(v.valueOf(), -0)) return true;
      continue;
    }
    if (Array.isArray(v)) {
      const arr: readonly unknown[] = v;
      for (let i = 0; i < arr.length; i++) {
        const item = arr[i];
        if (typeof item === "object") {
          if (item !== null) stack.push(item);
        } else if (typeof item === "number" && item === 0 && 1 / item < 0) return true;
      }
      continue;
    }
    for (const key in v) {
      if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
      const item = (v as Record<string, unknown>)[key];
      if (typeof item === "object") {
        if (item !== null) stack.push(item);
      } else if (typeof item === "number" && item === 0 && 1 / item < 0) return true;
    }
  }
  return false;
}

/**
 * `JSON.stringify(value)`, except that `-0` is written as the JSON text `-0` (which JSON allows,
 * `JSON.parse` reads back as `-0`, and Go's `encoding/json` writes too) instead of `0`. The common
 * case — no `-0` anywhere — is `JSON.stringify` plus a light walk (no allocation per object, about a
 * fifth of the stringify's time); only a value holding a `-0` (or an
 * object with its own `toJSON`, whose output may) takes the slower path: a replacer marks each `-0`,
 * the marks are then rewritten. A {@link RawJson} anywhere in the value is written as its text,
 * verbatim, the same way.
 *
 * @returns the JSON text, or `undefined` where `JSON.stringify` returns it (a top-level `undefined`,
 *   function or symbol, or a `toJSON` returning undefined).
 * @throws whatever `JSON.stringify` throws (a cycle, a BigInt, a throwing `toJSON`).
 */
export function stringifyJson(value: unknown): string | undefined {
  const plain = JSON.stringify(value);
  // JSON.stringify has thrown on a cycle by now, so the walk ends.
  if (plain === undefined || !needsVerbatimPass(value)) return plain;
  for (;;) {
    // Random marks, checked afterwards: if a user string happened to hold one, try again.
    const mark = `\u0000ebind-verbatim-${Math.random().toString(36).slice(2)}-`;
    const verbatim: string[] = [];
    const marked = (text: string) => `${mark}${verbatim.push(text) - 1}`;
    const text = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
      // The holder's own member: JSON.stringify has already replaced a RawJson by its toJSON output.
      const own = (this as Record<string, unknown>)[key];
      if (own instanceof RawJson) return marked(own.text);
      if (typeof v === "number" && v === 0 && 1 / v < 0) return marked("-0");
      if (v instanceof Number && Object.is(v.valueOf(), -0)) return marked("-0");
      return v;
    });
    if (text === undefined) return undefined;
    const quoted = JSON.stringify(mark).slice(0, -1); // the mark as JSON writes it, without the closing quote
    let found = 0;
    const out = text.replaceAll(new RegExp(`${escapeRegExp(quoted)}(\\d+)"`, "g"), (_m, i: string) => {
      found++;
      return verbatim[Number(i)] ?? "";
    });
    if (found === verbatim.length) return out;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
