/**
 * Confirmation of destructive operations (reference §4.1): `--yes` skips it; stdin that is not a
 * terminal refuses; otherwise `<text> [y/N]: ` on stderr and a line read from stdin.
 * @module
 */
import type { Readable } from "node:stream";
import { CliError } from "./errors.js";
import type { CliIo } from "./io.js";

/** The answers that proceed; anything else aborts. */
const YES = new Set(["y", "Y", "yes", "YES"]);

/** One line from `input` (without its newline); what was read when the stream ends first. */
export function readLine(input: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const finish = (line: string): void => {
      input.off("data", onData);
      input.off("end", onEnd);
      input.off("error", onError);
      input.pause();
      resolve(line);
    };
    const onData = (chunk: Buffer | string): void => {
      buf += typeof chunk === "string" ? chunk : chunk.toString("utf8");
      const nl = buf.indexOf("\n");
      if (nl >= 0) finish(buf.slice(0, nl).replace(/\r$/, ""));
    };
    const onEnd = (): void => finish(buf);
    const onError = (err: Error): void => reject(err);
    input.on("data", onData);
    input.once("end", onEnd);
    input.once("error", onError);
    input.resume();
  });
}

/**
 * Asks before a destructive operation.
 * @param yes whether `--yes` was given.
 * @throws CliError `refusing destructive operation on non-TTY without --yes`, or `aborted` when the
 *   answer is not y/Y/yes/YES.
 */
export async function confirm(io: CliIo, yes: boolean, text: string): Promise<void> {
  if (yes) return;
  if (!io.isTTY) throw new CliError("refusing destructive operation on non-TTY without --yes");
  io.stderr.write(`${text} [y/N]: `);
  const answer = (await readLine(io.stdin)).trim();
  if (!YES.has(answer)) throw new CliError("aborted");
}
