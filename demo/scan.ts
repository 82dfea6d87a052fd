/**
 * Walking a directory tree for the demo: every regular file is hashed, and so is every symlink
 * that does not lead to a directory (a dangling or looping link too — it is then reported as
 * unreadable). Nothing is skipped silently: directories that are not descended (symlinks to
 * directories, which could loop) and special files (FIFOs, sockets, devices) are listed with a
 * reason, and directories that cannot be read are listed as errors. {@link chunkFiles} cuts the
 * list into the demo's hash steps.
 * @module
 */
import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** What a walk found. */
export interface ScanResult {
  /** Paths to hash, in walk order (deterministic: entries are sorted). */
  readonly files: string[];
  /** Entries deliberately not processed, with why. */
  readonly skipped: Array<{ path: string; reason: string }>;
  /** Directories that could not be listed. */
  readonly errors: Array<{ path: string; message: string }>;
}

/**
 * Walks `root` depth-first without following symlinks into directories (so it cannot loop).
 * @param root a directory.
 * @throws the OS error when `root` itself cannot be listed.
 */
export async function scan(root: string): Promise<ScanResult> {
  const result: ScanResult = { files: [], skipped: [], errors: [] };
  await readdir(root); // fail loudly on a bad root rather than reporting it as one error
  const pending: string[] = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      result.errors.push({ path: dir, message: (err as Error).message });
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) result.files.push(path);
      else if (entry.isSymbolicLink()) await classifyLink(path, result);
      else result.skipped.push({ path, reason: specialKind(entry) });
    }
  }
  return result;
}

/** A link to a file, or one that cannot be resolved, is hashed; a link to anything else is skipped. */
async function classifyLink(path: string, result: ScanResult): Promise<void> {
  let target;
  try {
    target = await stat(path);
  } catch {
    result.files.push(path); // dangling or looping: hashing reports the OS error
    return;
  }
  if (target.isFile()) result.files.push(path);
  else if (target.isDirectory()) result.skipped.push({ path, reason: "symlink to a directory (not followed)" });
  else result.skipped.push({ path, reason: `symlink to a ${specialKind(target)}` });
}

function specialKind(entry: { isFIFO(): boolean; isSocket(): boolean; isBlockDevice(): boolean; isCharacterDevice(): boolean }): string {
  if (entry.isFIFO()) return "FIFO";
  if (entry.isSocket()) return "socket";
  if (entry.isBlockDevice()) return "block device";
  if (entry.isCharacterDevice()) return "character device";
  return "unknown file type";
}

/** Files per hash step unless `--chunk-size` says otherwise. */
export const DEFAULT_CHUNK_SIZE = 250;

/**
 * Most UTF-8 bytes of paths in one chunk, whatever the count: a chunk's arguments (its paths) and
 * its result (a path, a hash and two numbers per file) then stay far below NATS's default 1 MiB max
 * payload even when every path is near `PATH_MAX`.
 */
export const MAX_CHUNK_PATH_BYTES = 128 * 1024;

/**
 * Splits `files`, in order, into chunks of at most `size` paths and at most `maxBytes` bytes of
 * paths (a single longer path gets a chunk of its own).
 * @param size a positive integer.
 */
export function chunkFiles(files: readonly string[], size: number, maxBytes = MAX_CHUNK_PATH_BYTES): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const path of files) {
    const length = Buffer.byteLength(path);
    if (current.length > 0 && (current.length >= size || bytes + length > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(path);
    bytes += length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
