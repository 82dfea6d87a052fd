/**
 * JSON output of ebctl as Go's `json.MarshalIndent(v, "", "  ")` writes it: values may embed raw
 * JSON text ({@link RawJson}: records in their wire form, payloads, results) that is re-indented but
 * never parsed, so numbers such as a 39-digit integer survive untouched.
 * @module
 */
import { formatTime } from "../task/index.js";

/** JSON text to embed as is (already valid JSON). */
export class RawJson {
  constructor(readonly text: string) {}
}

/**
 * Compact JSON of a value: objects (keys in insertion order, `undefined` members left out),
 * arrays, strings, numbers, booleans, `null`, `Date` (Go's RFC 3339 with nanoseconds, zero time for
 * an invalid date) and {@link RawJson}.
 */
export function compactJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof Date) return JSON.stringify(formatTime(value));
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map(compactJson).join(",")}]`;
  if (typeof value === "object") {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${compactJson(v)}`);
    }
    return `{${parts.join(",")}}`;
  }
  if (typeof value === "bigint") return value.toString();
  return JSON.stringify(value) ?? "null";
}

/** Re-indents JSON text with 2 spaces per level, `"key": value`, `[]` and `{}` kept empty. */
export function indentJson(text: string): string {
  let out = "";
  let depth = 0;
  const nl = (): string => `\n${"  ".repeat(depth)}`;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === "{" || c === "[") {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      if (text[j] === (c === "{" ? "}" : "]")) {
        out += c === "{" ? "{}" : "[]";
        i = j;
      } else {
        depth++;
        out += c + nl();
      }
    } else if (c === "}" || c === "]") {
      depth--;
      out += nl() + c;
    } else if (c === ",") {
      out += "," + nl();
    } else if (c === ":") {
      out += ": ";
    } else if (!/\s/.test(c)) {
      out += c;
    }
  }
  return out;
}

/** {@link compactJson} indented: what `-o json` prints for a value. */
export function prettyJson(value: unknown): string {
  return indentJson(compactJson(value));
}
