/**
 * ebctl's printers (reference §4.1): a table, a value or a line of text, in the format chosen with
 * `-o` (`pretty` — also `table` or empty — or `json`).
 * @module
 */
import type { Writable } from "node:stream";
import { prettyJson } from "./json.js";
import { CliError } from "./errors.js";

/** The output formats. */
export type OutputFormat = "pretty" | "json";

/**
 * The format named by `-o`.
 * @throws CliError `unknown output format "<x>" (want pretty|json)`.
 */
export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === "" || value === "pretty" || value === "table") return "pretty";
  if (value === "json") return "json";
  throw new CliError(`unknown output format "${value}" (want pretty|json)`);
}

/** Width of a cell as a terminal counts it: code points, as Go's tabwriter counts runes. */
function width(s: string): number {
  return [...s].length;
}

/**
 * Rows aligned as Go's `tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)` aligns tab-separated cells: each
 * column but the last padded to its widest cell plus 2 spaces.
 */
export function alignTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - width(cell) + 2))).join(""))
    .map((line) => `${line}\n`)
    .join("");
}

/** Writes command output in the chosen format. */
export class Printer {
  constructor(
    readonly format: OutputFormat,
    private readonly out: Writable,
  ) {}

  /** A table: pretty ⇒ header then rows, aligned; json ⇒ `json` (the rows as objects) indented. */
  table(headers: readonly string[], rows: readonly (readonly string[])[], json: unknown): void {
    if (this.format === "json") this.out.write(`${prettyJson(json)}\n`);
    else this.out.write(alignTable([headers, ...rows]));
  }

  /** A value: pretty ⇒ `pretty` as given (a trailing newline added when missing); json ⇒ `json` indented. */
  value(pretty: string, json: unknown): void {
    if (this.format === "json") this.out.write(`${prettyJson(json)}\n`);
    else this.out.write(pretty.endsWith("\n") ? pretty : `${pretty}\n`);
  }

  /** A line of text: pretty ⇒ the line; json ⇒ `{"text":"…"}`. */
  text(line: string): void {
    if (this.format === "json") this.out.write(`${JSON.stringify({ text: line })}\n`);
    else this.out.write(`${line}\n`);
  }
}
