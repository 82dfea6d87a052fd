/**
 * The demo's join, pure: what the `report` step computes from the results of every hash chunk —
 * totals, the largest files, the groups of files with identical content, the unreadable files.
 * The report is itself a step result, stored and sent through NATS, so its lists are cut to fit a
 * fixed byte budget (far below the 1 MiB max payload); its counts always cover every file.
 * @module
 */
import type { Failure, FileStat } from "./hash.js";

/** The result of one hash step. */
export interface ChunkResult {
  /** The files hashed, in the chunk's order. */
  readonly files: FileStat[];
  /** The files that could not be read. */
  readonly failures: Failure[];
}

/** Files with the same content. */
export interface DuplicateGroup {
  readonly sha256: string;
  /** Size of each of the files. */
  readonly bytes: number;
  /** How many files have this content (all of them, even when `paths` is cut). */
  readonly count: number;
  /** Their paths, sorted; at most {@link MAX_PATHS_PER_GROUP}. */
  readonly paths: string[];
}

/** Identical content across the tree. Empty files are left out: they are all "identical". */
export interface Duplicates {
  /** Groups of two or more non-empty files with the same SHA-256. */
  readonly groups: number;
  /** Files in those groups. */
  readonly files: number;
  /** Bytes that keeping one file of each group would save. */
  readonly wastedBytes: number;
  /** The groups that waste the most first, as many as fit the budget. */
  readonly listed: DuplicateGroup[];
}

/** What the `report` step returns. */
export interface Report {
  readonly chunks: number;
  readonly files: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Bytes of the files that were read. */
  readonly totalBytes: number;
  readonly totalLines: number;
  /** The {@link LARGEST} largest files, largest first (ties by path). */
  readonly largest: FileStat[];
  readonly duplicates: Duplicates;
  /** Unreadable files sorted by path, as many as fit the budget (`failed` counts them all). */
  readonly failures: Failure[];
}

/** How many of the largest files the report names. */
export const LARGEST = 10;
/** Most paths listed per duplicate group. */
export const MAX_PATHS_PER_GROUP = 20;
/** JSON bytes of the listed duplicate groups, at most. */
const DUPLICATES_BUDGET = 192 * 1024;
/** JSON bytes of the listed failures, at most. */
const FAILURES_BUDGET = 64 * 1024;

/** Joins the chunks' results into the report. */
export function joinChunks(chunks: readonly ChunkResult[]): Report {
  const all: FileStat[] = [];
  const failures: Failure[] = [];
  for (const chunk of chunks) {
    all.push(...chunk.files);
    failures.push(...chunk.failures);
  }
  const duplicates = findDuplicates(all);
  return {
    chunks: chunks.length,
    files: all.length + failures.length,
    succeeded: all.length,
    failed: failures.length,
    totalBytes: all.reduce((n, f) => n + f.bytes, 0),
    totalLines: all.reduce((n, f) => n + f.lines, 0),
    largest: largest(all),
    duplicates,
    failures: fitting(failures.sort(byPath), FAILURES_BUDGET),
  };
}

/** The `n` largest files, largest first (ties by path). */
export function largest(files: readonly FileStat[], n = LARGEST): FileStat[] {
  return [...files].sort((a, b) => b.bytes - a.bytes || byPath(a, b)).slice(0, n);
}

function findDuplicates(files: readonly FileStat[]): Duplicates {
  const bySha = new Map<string, FileStat[]>();
  for (const f of files) {
    if (f.bytes === 0) continue;
    const same = bySha.get(f.sha256);
    if (same) same.push(f);
    else bySha.set(f.sha256, [f]);
  }
  const groups: DuplicateGroup[] = [];
  for (const [sha256, same] of bySha) {
    if (same.length < 2) continue;
    const paths = same.map((f) => f.path).sort();
    groups.push({ sha256, bytes: same[0]!.bytes, count: same.length, paths: paths.slice(0, MAX_PATHS_PER_GROUP) });
  }
  const wasted = (g: DuplicateGroup): number => g.bytes * (g.count - 1);
  groups.sort((a, b) => wasted(b) - wasted(a) || b.count - a.count || (a.sha256 < b.sha256 ? -1 : 1));
  return {
    groups: groups.length,
    files: groups.reduce((n, g) => n + g.count, 0),
    wastedBytes: groups.reduce((n, g) => n + wasted(g), 0),
    listed: fitting(groups, DUPLICATES_BUDGET),
  };
}

/** The first items whose JSON fits in `budget` bytes together (lists inside step results stay bounded). */
export function fitting<T>(items: readonly T[], budget: number): T[] {
  const out: T[] = [];
  let used = 0;
  for (const item of items) {
    used += Buffer.byteLength(JSON.stringify(item)) + 1;
    if (used > budget) break;
    out.push(item);
  }
  return out;
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
