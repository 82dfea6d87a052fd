/**
 * JSON text a handler or producer hands over as is: an integer beyond 2^53 that a Go `int64` (or
 * `big.Int`) must receive exactly, a decimal with more digits than a double keeps, a document
 * already serialised elsewhere. JavaScript numbers cannot carry those; `rawJson("9007199254740993")`
 * is written into the task's payload or result without being parsed or re-encoded (issue 15).
 * @module
 */
import { EbindError } from "./errors.js";
import { validateJson } from "./rawjson.js";

/**
 * One JSON value as text, embedded verbatim wherever ebind writes arguments or a result (see
 * {@link rawJson}). `T` is what the text means once parsed: a handler returning
 * `RawJson<number>` has the result type `number` for producers, who get the parsed (possibly
 * rounded) number from `result()` and the exact text from `raw()`.
 *
 * Plain `JSON.stringify` does not know the class: through it, a `RawJson` writes its parsed value.
 */
export class RawJson<T = unknown> {
  /** The JSON text, trimmed. */
  readonly text: string;
  /** Phantom: the parsed type, for {@link ResultOf}. Never set. */
  declare readonly parsedType?: T;

  /**
   * @throws {EbindError} `invalid_argument` when `text` is not a string holding exactly one JSON
   *   value, naming the position of the first problem.
   */
  constructor(text: string) {
    if (typeof text !== "string") throw new EbindError("invalid_argument", `rawJson: expected JSON text, got ${typeof text}`);
    try {
      validateJson(text);
    } catch (e) {
      throw new EbindError("invalid_argument", `rawJson: not one JSON value: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    this.text = text.trim();
    Object.freeze(this);
  }

  /** The parsed value, for `JSON.stringify` outside ebind (which cannot write raw text on Node 20). */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * Wraps JSON text to be written verbatim as an argument or a result (or any value inside one):
 * `return rawJson<number>("9007199254740993")` reaches a Go `int64` exactly, where the number
 * `9007199254740993` would be rounded by JavaScript before it is written.
 * @example
 * const total = defineHandler("billing.Total", async (_ctx, cents: string) => rawJson<number>(cents));
 * @throws {EbindError} `invalid_argument` when `text` is not exactly one JSON value.
 */
export function rawJson<T = unknown>(text: string): RawJson<T> {
  return new RawJson<T>(text);
}
