/**
 * The ebind demo: hash every file of a directory tree through the task queue.
 *
 *   npm run demo -- [DIR] [--json] [--workers N] [--concurrency N] [--inflight N]
 *
 * DIR defaults to this project's root (node_modules included). The backend is `NATS_URL` when set,
 * else an embedded `nats-server` started for the run. Workers run in this process; the client
 * enqueues one `demo.FileStat(path)` per file, keeping at most `--inflight` tasks outstanding, and
 * awaits every result. Files that cannot be read fail with kind `unreadable` and end in the DLQ,
 * which is read back at the end. Exit code 0 when the run completed (even with failed files),
 * 1 when the system failed, 2 for bad usage.
 * @module
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DLQ_STREAM, type Broker } from "../src/broker/index.js";
import { Client } from "../src/client/index.js";
import { openDevBackend, type DevBackend } from "../src/dev/backend.js";
import { listDeadLetters } from "../src/dlq/index.js";
import { EbindError, TaskError } from "../src/task/index.js";
import { Worker } from "../src/worker/index.js";
import { createRegistry, fileStat, type FileStat } from "./handlers.js";
import { Progress, formatSummary, largest, type DeadLettered, type Failure, type Summary } from "./report.js";
import { scan } from "./scan.js";

const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** A result that takes longer than this means the system is stuck, not that a file is slow. */
const RESULT_TIMEOUT_MS = 120_000;

interface Options {
  readonly root: string;
  readonly json: boolean;
  readonly workers: number;
  readonly concurrency: number;
  readonly inflight: number;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      workers: { type: "string", default: "2" },
      concurrency: { type: "string", default: "32" },
      inflight: { type: "string", default: "256" },
    },
  });
  if (positionals.length > 1) throw new UsageError(`expected at most one directory, got ${positionals.length}`);
  const count = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
    return n;
  };
  return {
    root: resolve(positionals[0] ?? PROJECT_ROOT),
    json: values.json,
    workers: count("workers", values.workers),
    concurrency: count("concurrency", values.concurrency),
    inflight: count("inflight", values.inflight),
  };
}

/** What the client collected. */
interface Outcomes {
  readonly results: FileStat[];
  readonly failures: Failure[];
}

/** Runs one task per file with at most `inflight` outstanding; a non-TaskError is a system failure. */
async function runTasks(client: Client, files: readonly string[], inflight: number, progress: Progress): Promise<Outcomes> {
  const outcomes: Outcomes = { results: [], failures: [] };
  let next = 0;
  let broken = false;
  const lane = async (): Promise<void> => {
    while (!broken && next < files.length) {
      const path = files[next++]!;
      let taskId: string | undefined;
      try {
        const future = await client.enqueue(fileStat, path);
        taskId = future.id;
        outcomes.results.push(await future.result({ timeoutMs: RESULT_TIMEOUT_MS }));
        progress.tick(false);
      } catch (err) {
        if (!(err instanceof TaskError)) {
          broken = true;
          throw err;
        }
        outcomes.failures.push({ path, taskId, kind: err.kind, message: err.detail });
        progress.tick(true);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inflight, files.length) }, lane));
  return outcomes;
}

/**
 * The DLQ entries added after `sinceSeq` whose task id is one of `ids`. The worker stores a DLQ entry
 * before it sends the failed result, so every failure the run saw is already there.
 */
async function deadLettersOf(broker: Broker, sinceSeq: number, ids: ReadonlyMap<string, string>): Promise<DeadLettered[]> {
  const found: DeadLettered[] = [];
  for (const letter of await listDeadLetters(broker, { limit: 0, afterSeq: sinceSeq })) {
    const entry = letter.entry;
    const path = entry && ids.get(entry.task.id);
    if (entry === undefined || path === undefined) continue;
    const { kind, message } = entry.error;
    found.push({ seq: letter.seq, taskId: entry.task.id, path, kind, message, finalAttempt: entry.finalAttempt });
  }
  return found.sort((a, b) => a.seq - b.seq);
}

async function run(options: Options): Promise<Summary> {
  const root = await stat(options.root).catch((err: Error) => {
    throw new UsageError(err.message);
  });
  if (!root.isDirectory()) throw new UsageError(`not a directory: ${options.root}`);
  const walk = await scan(options.root);
  process.stderr.write(`demo: ${walk.files.length} files under ${options.root}\n`);

  let backend: DevBackend | undefined;
  let client: Client | undefined;
  const workers: Worker[] = [];
  try {
    backend = await openDevBackend();
    const { broker } = backend;
    const registry = createRegistry();
    for (let i = 1; i <= options.workers; i++) {
      workers.push(await Worker.start(broker, registry, { workerId: `demo-${process.pid}-w${i}`, concurrency: options.concurrency }));
    }
    client = await Client.create(broker, { clientId: `demo-${process.pid}` });
    const dlqBefore = (await broker.streamState(DLQ_STREAM))?.lastSeq ?? 0;

    const started = performance.now();
    const { results, failures } = await runTasks(client, walk.files, options.inflight, new Progress(walk.files.length));
    const elapsedMs = performance.now() - started;

    const failedIds = new Map(failures.flatMap((f) => (f.taskId === undefined ? [] : [[f.taskId, f.path] as const])));
    const deadLettered = failedIds.size === 0 ? [] : await deadLettersOf(broker, dlqBefore, failedIds);
    results.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    failures.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return {
      root: options.root,
      backend: backend.description,
      workers: options.workers,
      concurrency: options.concurrency,
      files: walk.files.length,
      succeeded: results.length,
      failed: failures.length,
      totalBytes: results.reduce((n, r) => n + r.bytes, 0),
      totalLines: results.reduce((n, r) => n + r.lines, 0),
      elapsedMs: Math.round(elapsedMs),
      tasksPerSecond: elapsedMs > 0 ? Math.round((walk.files.length * 1000) / elapsedMs) : 0,
      largest: largest(results),
      failures,
      deadLettered,
      skipped: walk.skipped,
      walkErrors: walk.errors,
      results,
    };
  } finally {
    await client?.close();
    await Promise.allSettled(workers.map((w) => w.close()));
    await backend?.close();
  }
}

async function main(argv: string[]): Promise<number> {
  try {
    const options = parseOptions(argv);
    const summary = await run(options);
    process.stdout.write(options.json ? JSON.stringify(summary, null, 2) + "\n" : formatSummary(summary));
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: unknown }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      process.stderr.write(`demo: ${(err as Error).message}\nusage: npm run demo -- [DIR] [--json] [--workers N] [--concurrency N] [--inflight N]\n`);
      return 2;
    }
    // Errors of ebind's own API say what went wrong in their message; anything else gets its stack.
    const detail = err instanceof EbindError ? `${err.name} ${err.code}: ${err.message}` : ((err as Error).stack ?? String(err));
    process.stderr.write(`demo: failed: ${detail}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything is closed by now; if a stray handle kept the process alive, say so rather than hang.
setTimeout(() => {
  process.stderr.write("demo: a handle kept the process alive after shutdown; exiting\n");
  process.exit(code);
}, 5_000).unref();
