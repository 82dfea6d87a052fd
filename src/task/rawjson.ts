/**
 * A small JSON scanner that validates documents and hands back members' values as their exact
 * source text, so payloads, results and defaults pass through untouched (DESIGN §2: a 39-digit
 * integer must survive). Iterative: deep nesting cannot overflow the call stack; like Go's decoder it
 * refuses nesting deeper than {@link MAX_JSON_DEPTH}.
 * @module
 */

/** The deepest nesting of arrays and objects accepted (the limit of Go's `encoding/json`). */
export const MAX_JSON_DEPTH = 10_000;

const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string, at = this.pos): never {
    const found = at >= this.text.length ? "end of input" : JSON.stringify(this.text.slice(at, at + 12));
    throw new SyntaxError(`invalid JSON at position ${at}: ${what}, found ${found}`);
  }

  skipWs(): void {
    const t = this.text;
    while (this.pos < t.length && isWs(t.charCodeAt(this.pos))) this.pos++;
  }

  /** The code unit at the current position, or -1 at the end. */
  peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) this.fail(what);
    this.pos++;
  }

  /** Scans a string starting at its opening quote; leaves `pos` after the closing quote. */
  string(): void {
    const t = this.text;
    this.expect(QUOTE, "expected a string");
    for (;;) {
      if (this.pos >= t.length) this.fail("unterminated string");
      const c = t.charCodeAt(this.pos);
      if (c === QUOTE) {
        this.pos++;
        return;
      }
      if (c < 0x20) this.fail("control character in string");
      if (c === BACKSLASH) {
        const e = t.charCodeAt(this.pos + 1);
        if (e === 0x75 /* u */) {
          for (let i = 2; i < 6; i++) if (!isHex(t.charCodeAt(this.pos + i))) this.fail("invalid \\u escape");
          this.pos += 6;
        } else if (this.pos + 1 < t.length && '"\\/bfnrt'.includes(t.charAt(this.pos + 1))) {
          this.pos += 2;
        } else {
          this.fail("invalid escape in string");
        }
        continue;
      }
      this.pos++;
    }
  }

  /** Scans `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`. */
  number(): void {
    const t = this.text;
    const start = this.pos;
    if (t.charCodeAt(this.pos) === MINUS) this.pos++;
    const first = t.charCodeAt(this.pos);
    if (first === 0x30) this.pos++;
    else if (isDigit(first)) while (isDigit(t.charCodeAt(this.pos))) this.pos++;
    else this.fail("invalid number", start);
    if (t.charCodeAt(this.pos) === 0x2e /* . */) {
      this.pos++;
      if (!isDigit(t.charCodeAt(this.pos))) this.fail("invalid number", start);
      while (isDigit(t.charCodeAt(this.pos))) this.pos++;
    }
    const e = t.charCodeAt(this.pos);
    if (e === 0x65 || e === 0x45) {
      this.pos++;
      const s = t.charCodeAt(this.pos);
      if (s === 0x2b || s === MINUS) this.pos++;
      if (!isDigit(t.charCodeAt(this.pos))) this.fail("invalid number", start);
      while (isDigit(t.charCodeAt(this.pos))) this.pos++;
    }
  }

  literal(word: string): void {
    if (!this.text.startsWith(word, this.pos)) this.fail("invalid literal");
    this.pos += word.length;
  }

  /** Scans an object key and the colon after it. */
  memberKey(): void {
    this.skipWs();
    this.string();
    this.skipWs();
    this.expect(COLON, "expected ':' after object key");
  }

  /**
   * Scans one value starting at the current position (after whitespace); leaves `pos` just after it.
   * `baseDepth` is the nesting depth of the container holding the value.
   */
  value(baseDepth = 0): void {
    const stack: number[] = []; // the closing code unit of each open container
    for (;;) {
      // A value starts here.
      this.skipWs();
      const c = this.peek();
      let closedEmpty = false;
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (baseDepth + stack.length >= MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
        this.pos++;
        const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
        this.skipWs();
        if (this.peek() === close) {
          this.pos++;
          closedEmpty = true;
        } else {
          stack.push(close);
          if (close === CLOSE_OBJECT) this.memberKey();
          continue;
        }
      }
      if (!closedEmpty) {
        if (c === QUOTE) this.string();
        else if (c === MINUS || isDigit(c)) this.number();
        else if (c === 0x74) this.literal("true");
        else if (c === 0x66) this.literal("false");
        else if (c === 0x6e) this.literal("null");
        else this.fail("expected a JSON value");
      }
      // After a value: close containers until one continues with a comma.
      for (;;) {
        const close = stack.at(-1);
        if (close === undefined) return;
        this.skipWs();
        const n = this.peek();
        if (n === COMMA) {
          this.pos++;
          if (close === CLOSE_OBJECT) this.memberKey();
          break;
        }
        if (n !== close) this.fail(close === CLOSE_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'");
        this.pos++;
        stack.pop();
      }
    }
  }

  end(): void {
    this.skipWs();
    if (this.pos !== this.text.length) this.fail("unexpected data after the JSON value");
  }
}

/**
 * Parses one JSON object and returns each member's value as its exact source text (surrounding
 * whitespace trimmed). Keys are unescaped; when a key repeats, the last value wins (as in Go).
 * The whole document is validated.
 *
 * @example parseObjectRaw('{"a": 123456789012345678901234567890123456789}').get("a")
 *   // "123456789012345678901234567890123456789"
 * @throws {SyntaxError} with the position, for malformed JSON, trailing data, a top-level value that
 *   is not an object, or nesting deeper than {@link MAX_JSON_DEPTH}.
 */
export function parseObjectRaw(text: string): Map<string, string> {
  const s = new Scanner(text);
  const members = new Map<string, string>();
  s.skipWs();
  s.expect(OPEN_OBJECT, "expected a JSON object");
  s.skipWs();
  if (s.peek() === CLOSE_OBJECT) {
    s.pos++;
    s.end();
    return members;
  }
  for (;;) {
    s.skipWs();
    const keyStart = s.pos;
    s.string();
    const keyText = text.slice(keyStart, s.pos);
    const key = keyText.includes("\\") ? (JSON.parse(keyText) as string) : keyText.slice(1, -1);
    s.skipWs();
    s.expect(COLON, "expected ':' after object key");
    s.skipWs();
    const valueStart = s.pos;
    s.value(1);
    members.set(key, text.slice(valueStart, s.pos));
    s.skipWs();
    const c = s.peek();
    if (c === COMMA) {
      s.pos++;
      continue;
    }
    s.expect(CLOSE_OBJECT, "expected ',' or '}'");
    s.end();
    return members;
  }
}

/**
 * Checks that `text` is exactly one well-formed JSON value (whitespace around it allowed).
 * @throws {SyntaxError} with the position of the first problem.
 */
export function validateJson(text: string): void {
  const s = new Scanner(text);
  s.value();
  s.end();
}

/** Whether raw JSON text is an array (its first non-whitespace character is `[`). Does not validate. */
export function isJsonArrayText(raw: string): boolean {
  return /^[ \t\r\n]*\[/.test(raw);
}

/**
 * Parses one JSON array and returns each element as its exact source text (surrounding whitespace
 * trimmed), so elements pass through untouched. The whole document is validated.
 *
 * @example parseArrayRaw('[1, {"a":2} ,"x"]') // ["1", '{"a":2}', '"x"']
 * @throws {SyntaxError} with the position, for malformed JSON, trailing data, a top-level value that
 *   is not an array, or nesting deeper than {@link MAX_JSON_DEPTH}.
 */
export function parseArrayRaw(text: string): string[] {
  const s = new Scanner(text);
  const elements: string[] = [];
  s.skipWs();
  s.expect(OPEN_ARRAY, "expected a JSON array");
  s.skipWs();
  if (s.peek() === CLOSE_ARRAY) {
    s.pos++;
    s.end();
    return elements;
  }
  for (;;) {
    s.skipWs();
    const start = s.pos;
    s.value(1);
    elements.push(text.slice(start, s.pos));
    s.skipWs();
    if (s.peek() === COMMA) {
      s.pos++;
      continue;
    }
    s.expect(CLOSE_ARRAY, "expected ',' or ']'");
    s.end();
    return elements;
  }
}
