/**
 * The demo's handler, `demo.FileStat(path)`: size, line count and SHA-256 of one file, read in
 * fixed-size chunks (never the whole file at once). A file that cannot be read fails with kind
 * `unreadable`, not retryable, so it goes straight to the dead-letter queue.
 * @module
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { defineHandler, Registry, TaskError, type HandlerContext } from "../src/task/index.js";

/** The result of {@link fileStat}. */
export interface FileStat {
  readonly path: string;
  /** Bytes read. */
  readonly bytes: number;
  /** Lines: the number of `\n`, plus one when the file does not end with one (0 for an empty file). */
  readonly lines: number;
  /** Lower-case hex SHA-256 of the content. */
  readonly sha256: string;
}

/** The error kind of a file that cannot be opened or read. */
export const UNREADABLE = "unreadable";

const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
// Non-blocking open: a FIFO that slipped past the walk must not hang a worker thread.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Hashes and counts one file. */
export const fileStat = defineHandler("demo.FileStat", async (ctx: HandlerContext, path: string): Promise<FileStat> => {
  let file: FileHandle | undefined;
  try {
    file = await open(path, OPEN_FLAGS);
    const info = await file.stat();
    if (info.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${path}'`), { code: "EISDIR" });
    if (!info.isFile()) throw Object.assign(new Error(`not a regular file, read '${path}'`), { code: "EINVAL" });
    const hash = createHash("sha256");
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let bytes = 0;
    let newlines = 0;
    let last = -1;
    for (;;) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      bytes += bytesRead;
      for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) newlines++;
      last = chunk[bytesRead - 1] ?? -1;
    }
    const lines = bytes === 0 ? 0 : newlines + (last === NEWLINE ? 0 : 1);
    return { path, bytes, lines, sha256: hash.digest("hex") };
  } catch (err) {
    throw unreadable(err, path);
  } finally {
    await file?.close();
  }
});

/** OS errors become `unreadable` (not retryable) with the OS message, which names the path. */
function unreadable(err: unknown, path: string): unknown {
  if (err instanceof TaskError || !(err instanceof Error) || typeof (err as NodeJS.ErrnoException).code !== "string") return err;
  const message = err.message.includes(path) ? err.message : `${err.message} (${path})`;
  return new TaskError(UNREADABLE, message, { retryable: false, cause: err });
}

/** The registry every demo worker serves. */
export function createRegistry(): Registry {
  const registry = new Registry();
  registry.register(fileStat);
  return registry;
}
