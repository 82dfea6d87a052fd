/**
 * The ebind demo: hash every file of a directory tree with a durable workflow.
 *
 *   npm run demo -- [DIR] [--json] [--verbose] [--dag-id ID] [--store-dir DIR]
 *                         [--chunk-size N] [--workers N] [--concurrency N] [--ui]
 *
 * DIR defaults to this project's root (node_modules included). The DAG (handlers.ts): a `scan` step
 * walks DIR and adds one `hash-<n>` step per chunk of files and a `report` step that joins them
 * (totals, largest files, identical content). This process runs the workers and the scheduler,
 * submits the DAG, shows progress, awaits the report and prints it.
 *
 * Resuming: the DAG lives in JetStream. With `--store-dir` the embedded nats-server keeps it in that
 * directory, so an interrupted run (killed, Ctrl-C) is resumed by running the demo again
 * with the same `--dag-id` and `--store-dir`: nothing is resubmitted, the steps that were done are
 * not run again, the others run. A new DAG's id and the command that resumes it are printed at
 * start. Without `--store-dir` the store is a temporary directory removed at exit, so a run cannot
 * be resumed; with `NATS_URL` the state is in that deployment (`--dag-id` alone resumes); the memory
 * backend keeps nothing.
 *
 * With `--ui` the live dashboard (src/ui) runs beside the workflow: its address, with the token in
 * the fragment, is printed at start; once the report is printed the demo stays up, so the finished
 * DAG can be looked at, until Ctrl-C.
 *
 * Unreadable files are reported, not failures. Exit code 0 when the report was printed, 1 when the
 * system failed (a step failed for good, the backend is unreachable, nothing finished for 5
 * minutes), 2 for bad usage.
 * @module
 */
import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { openDevBackend, type DevBackend } from "../src/dev/backend.js";
import { NatsBroker } from "../src/nats/index.js";
import { EbindError } from "../src/task/index.js";
import { Worker } from "../src/worker/index.js";
import { alwaysLeader, Workflow, WorkflowError, type Scheduler } from "../src/workflow/index.js";
import { DagFailedError, DagMismatchError, dagFailure, findDag, readChunks, rootOf } from "./dag.js";
import { createSteps, DAG_LABEL, SCAN_STEP, type Report, type ScanSummary, type StepRun } from "./handlers.js";
import { formatSummary, type Summary } from "./output.js";
import { DagWatch, StallError } from "./progress.js";
import { DEFAULT_CHUNK_SIZE } from "./scan.js";
import { lockStore, StoreBusyError, type StoreLock } from "./store-lock.js";
import { startDashboard, type Dashboard } from "../src/ui/index.js";

const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const USAGE =
  "usage: npm run demo -- [DIR] [--json] [--verbose] [--dag-id ID] [--store-dir DIR] [--chunk-size N] [--workers N] [--concurrency N] [--ui]";
/**
 * The workers' ack wait on servers the demo starts: a task held by a worker that died is delivered
 * again after this long, which is how a resumed run gets back the chunks the killed run was hashing.
 */
const ACK_WAIT_MS = 5_000;

interface Options {
  /** The directory given, resolved; undefined → the project root (new DAG) or the DAG's (resume). */
  readonly root: string | undefined;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly dagId: string | undefined;
  readonly storeDir: string | undefined;
  readonly chunkSize: number;
  readonly workers: number;
  readonly concurrency: number;
  /** Start the dashboard beside the run and stay up after the report until Ctrl-C. */
  readonly ui: boolean;
  /** Hidden, for tests: a pause before each file, so a run can be interrupted half-way. */
  readonly hashDelayMs: number;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      "dag-id": { type: "string" },
      "store-dir": { type: "string" },
      "chunk-size": { type: "string", default: String(DEFAULT_CHUNK_SIZE) },
      workers: { type: "string", default: "2" },
      concurrency: { type: "string", default: "4" },
      "hash-delay-ms": { type: "string", default: "0" },
      ui: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 1) throw new UsageError(`expected at most one directory, got ${positionals.length}`);
  const count = (name: string, text: string, min = 1): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
    return n;
  };
  const dagId = values["dag-id"];
  if (dagId !== undefined && !/^[A-Za-z0-9_=-]+$/.test(dagId)) throw new UsageError(`--dag-id may hold letters, digits, "-", "_" and "=", got ${JSON.stringify(dagId)}`);
  return {
    root: positionals[0] === undefined ? undefined : resolve(positionals[0]),
    json: values.json,
    verbose: values.verbose,
    dagId,
    storeDir: values["store-dir"] === undefined ? undefined : resolve(values["store-dir"]),
    chunkSize: count("chunk-size", values["chunk-size"]),
    workers: count("workers", values.workers),
    concurrency: count("concurrency", values.concurrency),
    hashDelayMs: count("hash-delay-ms", values["hash-delay-ms"], 0),
    ui: values.ui,
  };
}

/** Writes a line on stderr. */
const say = (line: string): void => void process.stderr.write(line + "\n");

async function checkDirectory(path: string): Promise<void> {
  const info = await stat(path).catch((err: Error) => {
    throw new UsageError(err.message);
  });
  if (!info.isDirectory()) throw new UsageError(`not a directory: ${path}`);
}

/** A fresh DAG id: `demo-<UTC date and time>-<random>`. */
function newDagId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `demo-${stamp}-${randomBytes(3).toString("hex")}`;
}

/** How this run could be resumed, for the start message. */
function resumeHint(backend: DevBackend, dagId: string, storeDir: string | undefined): string {
  switch (backend.kind) {
    case "memory":
      return "demo: the memory backend keeps nothing: this run cannot be resumed";
    case "nats":
      return `demo: if interrupted, resume with: npm run demo -- --dag-id ${dagId}  (same NATS_URL)`;
    case "embedded":
      return storeDir === undefined
        ? "demo: the store is a temporary directory: this run cannot be resumed (pass --store-dir DIR to make it resumable)"
        : `demo: if interrupted, resume with: npm run demo -- --dag-id ${dagId} --store-dir ${storeDir}`;
  }
}

/** Resolves on the first SIGINT or SIGTERM (installed only when the demo waits for one). */
function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}

/**
 * Runs the demo. `present` prints the summary: with `--ui` it is called here, before the demo waits
 * for Ctrl-C with the dashboard up; otherwise the caller prints what this returns.
 */
async function run(options: Options, present: (summary: Summary) => void): Promise<Summary> {
  const started = performance.now();
  if (options.root !== undefined) await checkDirectory(options.root);
  const storeDir = process.env.NATS_URL ? undefined : options.storeDir;
  if (options.storeDir !== undefined && storeDir === undefined) say("demo: --store-dir ignored: NATS_URL is set");
  const stop = new AbortController();
  let lock: StoreLock | undefined;
  let backend: DevBackend | undefined;
  let closeWorkflow = (): void => {};
  let scheduler: Scheduler | undefined;
  let watch: DagWatch | undefined;
  let dashboard: Dashboard | undefined;
  const workers: Worker[] = [];
  try {
    if (storeDir !== undefined) lock = await lockStore(storeDir, say);
    backend = await openDevBackend({ storeDir });
    const { broker } = backend;
    if (storeDir !== undefined && backend.kind === "memory") say("demo: --store-dir ignored: nats-server not found");
    if (broker instanceof NatsBroker && backend.kind === "embedded") await lock?.setServer(broker.connection.getServer());
    const workflow = await Workflow.create(broker);
    closeWorkflow = () => workflow.close();

    const dagId = options.dagId ?? newDagId();
    const existing = await findDag(workflow, dagId);
    const root = existing ? rootOf(existing, options.root) : (options.root ?? PROJECT_ROOT);
    if (!existing) await checkDirectory(root);
    const doneAtStart = (existing?.steps ?? []).filter((s) => s.status === "done").map((s) => s.stepId);
    const progress = new DagWatch(workflow, dagId);
    watch = progress;

    const stepsRun: StepRun[] = [];
    const steps = createSteps({
      readResult: (dag, step) => workflow.awaitById(dag, step, { timeoutMs: 60_000 }),
      hashDelayMs: options.hashDelayMs,
      onStepRun: (r) => {
        stepsRun.push(r);
        if (options.verbose) progress.log(`demo: step ${r.step} (attempt ${r.attempt}) done${r.files > 0 ? `: ${r.files} files` : ""}`);
      },
    });
    for (let i = 1; i <= options.workers; i++) {
      workers.push(
        await Worker.start(broker, steps.registry, {
          workerId: `demo-${process.pid}-w${i}`,
          concurrency: options.concurrency,
          stepHook: workflow.stepHook,
          middleware: [workflow.middleware],
          // On a deployment the demo does not own, keep the shared consumer's settings.
          ackWaitMs: backend.kind === "nats" ? undefined : ACK_WAIT_MS,
          // Closing lets the pull in progress expire: keep pulls short so the demo exits promptly.
          pullExpiresMs: 1_000,
        }),
      );
    }
    // The demo's scheduler is alone (or racing harmlessly), so it sweeps at once: a resumed DAG is repaired before anything else.
    scheduler = await workflow.startScheduler({ elector: alwaysLeader, sweepIntervalMs: 15_000, strandedAfterMs: 60_000 });
    if (options.ui) {
      dashboard = await startDashboard({ broker, workflow });
      say(`demo: dashboard at ${dashboard.url}`);
    }

    if (existing?.meta.status === "done") {
      say(`demo: DAG ${dagId} (${root}) already finished; printing its report`);
    } else if (existing) {
      say(`demo: resuming DAG ${dagId} (${existing.meta.status}, ${root}): ${doneAtStart.length}/${existing.steps.length} steps done; nothing is resubmitted`);
    } else {
      const dag = workflow.dag({ id: dagId, labels: [DAG_LABEL] });
      dag.step(SCAN_STEP, steps.scan, root, options.chunkSize);
      await workflow.submit(dag);
      say(`demo: DAG ${dagId}: hashing ${root} in chunks of ${options.chunkSize} files`);
      say(resumeHint(backend, dagId, storeDir));
    }
    progress.start();
    const awaited = async <T>(stepId: string): Promise<T> => {
      try {
        return await Promise.race([workflow.awaitById<T>(dagId, stepId, { signal: stop.signal }), progress.stalled]);
      } catch (err) {
        if (err instanceof WorkflowError) throw await dagFailure(workflow, dagId, err);
        throw err;
      }
    };
    const scanned = await awaited<ScanSummary>(SCAN_STEP);
    const report = await awaited<Report>(scanned.report);
    await progress.stop();
    const elapsedMs = performance.now() - started;
    const all = options.json ? await readChunks(workflow, dagId, scanned.chunks) : { files: [], failures: report.failures };
    const hashedHere = stepsRun.reduce((n, r) => n + r.files, 0);
    const summary: Summary = {
      root,
      backend: backend.description,
      dagId,
      resumed: existing !== undefined,
      stepsDoneAtStart: doneAtStart,
      stepsRun,
      workers: options.workers,
      concurrency: options.concurrency,
      chunks: report.chunks,
      files: report.files,
      succeeded: report.succeeded,
      failed: report.failed,
      totalBytes: report.totalBytes,
      totalLines: report.totalLines,
      elapsedMs: Math.round(elapsedMs),
      filesPerSecond: elapsedMs > 0 ? Math.round((hashedHere * 1000) / elapsedMs) : 0,
      largest: report.largest,
      duplicates: report.duplicates,
      failures: all.failures,
      skipped: scanned.skipped,
      skippedCount: scanned.skippedCount,
      walkErrors: scanned.walkErrors,
      walkErrorCount: scanned.walkErrorCount,
      results: all.files,
    };
    if (dashboard) {
      present(summary);
      say(`demo: done; the dashboard stays up at ${dashboard.url} — Ctrl-C to exit`);
      await interrupted();
    }
    return summary;
  } finally {
    stop.abort();
    await dashboard?.close();
    await watch?.stop();
    // Both wait for a pull to expire; anything left half-done is picked up by a resumed run.
    await Promise.allSettled([...workers.map((w) => w.close()), scheduler?.stop()]);
    closeWorkflow();
    await backend?.close();
    await lock?.release();
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n\nHashes every file under DIR (default: this project) as a resumable ebind workflow.\n` +
      `Resume an interrupted run with the same --dag-id and --store-dir.\n`);
    return 0;
  }
  try {
    const options = parseOptions(argv);
    const present = (summary: Summary): void => void process.stdout.write(options.json ? JSON.stringify(summary, null, 2) + "\n" : formatSummary(summary));
    const summary = await run(options, present);
    if (!options.ui) present(summary);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: unknown }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      say(`demo: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof StoreBusyError || err instanceof DagMismatchError) {
      say(`demo: ${err.message}`);
      return 2;
    }
    // Errors of ebind's own API say what went wrong in their message; anything else gets its stack.
    const detail =
      err instanceof EbindError
        ? `${err.name} ${err.code}: ${err.message}`
        : err instanceof DagFailedError || err instanceof StallError || err instanceof WorkflowError
          ? err.message
          : ((err as Error).stack ?? String(err));
    say(`demo: failed: ${detail}`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything is closed by now; if a stray handle kept the process alive, say so rather than hang.
setTimeout(() => {
  say("demo: a handle kept the process alive after shutdown; exiting");
  process.exit(code);
}, 5_000).unref();
