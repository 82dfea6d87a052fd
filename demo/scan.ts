/**
 * Walking a directory tree for the demo: every regular file becomes a task, and so does every
 * symlink that does not lead to a directory (a dangling or looping link too — its task then fails
 * and is reported). Nothing is skipped silently: directories that are not descended (symlinks to
 * directories, which could loop) and special files (FIFOs, sockets, devices) are listed with a
 * reason, and directories that cannot be read are listed as errors.
 * @module
 */
import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** What a walk found. */
export interface ScanResult {
  /** Paths to process, one task each, in walk order. */
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

/** A link to a file, or one that cannot be resolved, is a task; a link to anything else is skipped. */
async function classifyLink(path: string, result: ScanResult): Promise<void> {
  let target;
  try {
    target = await stat(path);
  } catch {
    result.files.push(path); // dangling or looping: the handler reports the OS error
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
