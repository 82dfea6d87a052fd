/**
 * The demo's workflow and its three step handlers:
 *
 *     scan(root, chunkSize) ──adds──▶ hash-0 … hash-N ──then──▶ report(chunk ids)
 *
 * `demo.Scan` walks the tree, cuts the file list into chunks ({@link chunkFiles}) and adds one
 * `hash-<n>` step per chunk, then the `report` step, set to run after every chunk. `demo.HashChunk`
 * hashes its files; an unreadable file is an entry of its result, not a failure of the step, so one
 * bad file cannot skip the report (and it does not reach the dead-letter queue: only steps that
 * fail for real do, and then the DAG fails). `demo.Report` joins the chunks ({@link joinChunks}).
 *
 * The report does not take the chunks' results as `ref` arguments: the scheduler copies a ref's
 * result into the task it publishes, and the per-file results of a large tree (about 200 bytes a
 * file) do not fit in one NATS message. It reads them from the workflow store, one chunk at a time.
 * @module
 */
import { stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler, Registry, TaskError, type HandlerContext } from "../src/task/index.js";
import { dagContext, type DagContext } from "../src/workflow/index.js";
import { hashFile, isFailure } from "./hash.js";
import { fitting, joinChunks, type ChunkResult, type Report } from "./report.js";
import { chunkFiles, scan } from "./scan.js";

/** The id of the root step. */
export const SCAN_STEP = "scan";
/** The id of the step that joins the chunks. */
export const REPORT_STEP = "report";
/** The label of every demo DAG. */
export const DAG_LABEL = "ebind-demo";
/** Whether a step id is one of the hash steps. */
export const isHashStep = (stepId: string): boolean => /^hash-\d+$/.test(stepId);
/** JSON bytes of the skipped entries and walk errors listed in the scan's result, at most. */
const SCAN_LISTS_BUDGET = 64 * 1024;

/** What the scan step returns (its lists are cut to a budget; the counts are complete). */
export interface ScanSummary {
  readonly root: string;
  readonly files: number;
  /** The ids of the hash steps it added. */
  readonly chunks: string[];
  /** The id of the report step. */
  readonly report: string;
  /** Entries not hashed, with why (symlinks to directories, FIFOs…). */
  readonly skipped: Array<{ path: string; reason: string }>;
  readonly skippedCount: number;
  /** Directories that could not be listed. */
  readonly walkErrors: Array<{ path: string; message: string }>;
  readonly walkErrorCount: number;
}

/** One step handler run by this process. */
export interface StepRun {
  readonly step: string;
  /** The delivery count: 2 or more when the task was delivered before (to a worker that died). */
  readonly attempt: number;
  /** Files hashed (hash steps; 0 otherwise). */
  readonly files: number;
}

/** What the handlers need from the process running them. */
export interface StepOptions {
  /** A done step's result: the report reads the chunks through it (`workflow.awaitById`). */
  readonly readResult: (dagId: string, stepId: string) => Promise<unknown>;
  /** A pause before each file, in ms (tests use it to interrupt a run half-way). @default 0 */
  readonly hashDelayMs?: number | undefined;
  /** Told about each step handler that returns. */
  readonly onStepRun?: ((run: StepRun) => void) | undefined;
}

/** The demo's handlers, bound to one process's options. */
export interface DemoSteps {
  readonly scan: (ctx: HandlerContext, root: string, chunkSize: number) => Promise<ScanSummary>;
  readonly hashChunk: (ctx: HandlerContext, paths: string[]) => Promise<ChunkResult>;
  readonly report: (ctx: HandlerContext, chunkIds: string[]) => Promise<Report>;
  /** A registry serving all three. */
  readonly registry: Registry;
}

/** Creates the demo's step handlers and a registry serving them. */
export function createSteps(options: StepOptions): DemoSteps {
  const delayMs = options.hashDelayMs ?? 0;
  const done = (ctx: HandlerContext, files = 0): void => options.onStepRun?.({ step: ctx.task.stepId ?? "?", attempt: ctx.attempt, files });

  const hashChunk = defineHandler("demo.HashChunk", async (ctx: HandlerContext, paths: string[]): Promise<ChunkResult> => {
    const result: ChunkResult = { files: [], failures: [] };
    for (const path of paths) {
      if (delayMs > 0) await sleep(delayMs, undefined, { signal: ctx.signal });
      const entry = await hashFile(path, ctx.signal);
      if (isFailure(entry)) result.failures.push(entry);
      else result.files.push(entry);
    }
    done(ctx, paths.length);
    return result;
  });

  const report = defineHandler("demo.Report", async (ctx: HandlerContext, chunkIds: string[]): Promise<Report> => {
    const { dagId } = stepContext(ctx);
    const chunks: ChunkResult[] = [];
    for (const id of chunkIds) chunks.push((await options.readResult(dagId, id)) as ChunkResult);
    done(ctx);
    return joinChunks(chunks);
  });

  const scanStep = defineHandler("demo.Scan", async (ctx: HandlerContext, root: string, chunkSize: number): Promise<ScanSummary> => {
    const dag = stepContext(ctx);
    const info = await stat(root).catch((err: Error) => {
      throw new TaskError("unreadable", err.message, { retryable: false });
    });
    if (!info.isDirectory()) throw new TaskError("unreadable", `not a directory: ${root}`, { retryable: false });
    const walk = await scan(root);
    // A retried scan walks again and re-adds the same ids: adding an existing step is a no-op.
    const chunks: string[] = [];
    for (const [n, paths] of chunkFiles(walk.files, chunkSize).entries()) {
      chunks.push((await dag.addStep(`hash-${n}`, hashChunk, paths)).id);
    }
    await dag.addStepWith(REPORT_STEP, { after: chunks }, report, chunks);
    done(ctx);
    return {
      root,
      files: walk.files.length,
      chunks,
      report: REPORT_STEP,
      skipped: fitting(walk.skipped, SCAN_LISTS_BUDGET),
      skippedCount: walk.skipped.length,
      walkErrors: fitting(walk.errors, SCAN_LISTS_BUDGET),
      walkErrorCount: walk.errors.length,
    };
  });

  const registry = new Registry();
  for (const handler of [scanStep, hashChunk, report]) registry.register(handler);
  return { scan: scanStep, hashChunk, report, registry };
}

/** The DAG context of a step handler; these handlers only run as DAG steps. */
function stepContext(ctx: HandlerContext): DagContext {
  const dag = dagContext(ctx);
  if (!dag) throw new TaskError("not_a_step", `${ctx.task.name} runs only as a step of a demo DAG`, { retryable: false });
  return dag;
}

export type { ChunkResult, Report };
