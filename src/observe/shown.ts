/**
 * How `ebind/observe`, `ebind/prometheus` and `ebind/otel` show a value they refuse in an error
 * message: so that a string that looks like a number (`"2000"` from an environment variable) is not
 * mistaken for one.
 * @module
 */

/** Longest string shown whole; a longer one is cut to its first 60 characters. */
const MAX_SHOWN_STRING = 80;

/**
 * A value as an error message shows it, its type told apart: `"2000" (a string)` (a longer string
 * cut, with its length), `2000` and `NaN` for numbers, `10n (a bigint)`, `true (a boolean)`,
 * `null`, `undefined`, `[1, "2" (a string)]` for an array (its first 8 elements), `a Date` or
 * `an object` for an object, `a function`. Never throws.
 */
export function shown(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value.length > MAX_SHOWN_STRING ? `${JSON.stringify(`${value.slice(0, 60)}…`)} (a string of ${value.length} characters)` : `${JSON.stringify(value)} (a string)`;
    case "number":
      return String(value);
    case "bigint":
      return `${value}n (a bigint)`;
    case "boolean":
      return `${value} (a boolean)`;
    case "undefined":
      return "undefined";
    case "symbol":
      return `${value.toString()} (a symbol)`;
    case "function":
      return "a function";
    default:
      return shownObject(value as object | null);
  }
}

function shownObject(value: object | null): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.slice(0, 8).map(shown).join(", ")}${value.length > 8 ? `, … (${value.length} elements)` : ""}]`;
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object" ? `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}` : "an object";
}
