/**
 * Hashing one file for the demo: size, line count and SHA-256, read in fixed-size chunks (never the
 * whole file at once). A file that cannot be read is reported, not thrown: {@link hashFile} returns
 * an `unreadable` failure carrying the OS message. Only errors that say nothing about the file —
 * out of file descriptors or memory, an aborted handler — are thrown, so the step is retried.
 * @module
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

/** What the demo learns about one file. */
export interface FileStat {
  readonly path: string;
  /** Bytes read. */
  readonly bytes: number;
  /** Lines: the number of `\n`, plus one when the file does not end with one (0 for an empty file). */
  readonly lines: number;
  /** Lower-case hex SHA-256 of the content. */
  readonly sha256: string;
}

/** A file that could not be read: kind `unreadable` and the OS message (which names the path). */
export interface Failure {
  readonly path: string;
  readonly kind: string;
  readonly message: string;
}

/** The kind of a {@link Failure}. */
export const UNREADABLE = "unreadable";

const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
// Non-blocking open: a FIFO that slipped past the walk must not hang a worker thread.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
/** OS errors about the machine, not the file: the step fails and is retried. */
const TRANSIENT = new Set(["EMFILE", "ENFILE", "ENOMEM", "EAGAIN", "EBUSY", "EINTR"]);

/**
 * Hashes and counts one file.
 * @returns the file's stat, or a {@link Failure} when the OS refuses to open or read it.
 * @throws the abort reason when `signal` aborts; transient OS errors (EMFILE, ENOMEM…).
 */
export async function hashFile(path: string, signal: AbortSignal): Promise<FileStat | Failure> {
  let file: FileHandle | undefined;
  try {
    file = await open(path, OPEN_FLAGS);
    const info = await file.stat();
    if (info.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${path}'`), { code: "EISDIR" });
    if (!info.isFile()) throw Object.assign(new Error(`EINVAL: not a regular file, read '${path}'`), { code: "EINVAL" });
    const hash = createHash("sha256");
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let bytes = 0;
    let newlines = 0;
    let last = -1;
    for (;;) {
      signal.throwIfAborted();
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
    const code = (err as NodeJS.ErrnoException).code;
    if (signal.aborted || typeof code !== "string" || TRANSIENT.has(code)) throw err;
    const message = (err as Error).message;
    return { path, kind: UNREADABLE, message: message.includes(path) ? message : `${message} (${path})` };
  } finally {
    await file?.close();
  }
}

/** Whether `entry` is a {@link Failure} rather than a {@link FileStat}. */
export function isFailure(entry: FileStat | Failure): entry is Failure {
  return "kind" in entry;
}
