/**
 * The lines a child process prints on a stream, collected as they arrive, and a wait for the first
 * one that matches (printed before or later). Shared by the worker-process and Go-peer helpers.
 * @module
 */
import type { Readable } from "node:stream";

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
