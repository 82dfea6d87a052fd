/**
 * The lines a child process prints on a stream, collected as they arrive, and a wait for the first
 * one that matches (printed before or later); {@link readChildLines} adds the child's exit. Shared by
 * the worker-process and Go-peer helpers and the chaos suites' process helpers.
 * @module
 */
import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";

/** How a child process ended: its exit code, or the signal that ended it (the other is null). */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class OutputLines<T> {
  readonly lines: T[] = [];
  readonly #listeners = new Set<() => void>();

  /** Reads `stream` (utf8), splitting on newlines and keeping `parse(line)` of each. */
  constructor(stream: Readable | null | undefined, parse: (text: string) => T) {
    let buffer = "";
    stream?.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        this.lines.push(parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
      }
      this.poke();
    });
  }

  /** Re-checks every wait (call it when the process exits, so a wait on a matcher of exit sees it). */
  poke(): void {
    for (const l of this.#listeners) l();
  }

  /**
   * The first line for which `match` is true; rejects with `timeoutError()` after `timeoutMs`.
   */
  waitFor(match: (line: T) => boolean, timeoutMs: number, timeoutError: () => Error): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.lines.find(match);
        if (hit === undefined) return false;
        this.#listeners.delete(check);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        reject(timeoutError());
      }, timeoutMs);
      if (!check()) this.#listeners.add(check);
    });
  }
}

/**
 * Reads `child`'s stdout as lines (`parse` of each, as {@link OutputLines} does) and watches it end.
 * @returns `out`, its lines; `exited`, which settles on the child's `close` (it exited and its stdout
 *   is fully read, so every line is in `out.lines`) after re-checking every wait on `out`. Never rejects.
 */
export function readChildLines<T>(child: ChildProcess, parse: (text: string) => T): { out: OutputLines<T>; exited: Promise<ChildExit> } {
  const out = new OutputLines(child.stdout, parse);
  const exited = new Promise<ChildExit>((resolve) =>
    child.once("close", (code, signal) => {
      out.poke();
      resolve({ code, signal });
    }),
  );
  return { out, exited };
}
