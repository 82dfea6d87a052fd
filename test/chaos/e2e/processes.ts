/**
 * Starting the e2e worker processes (worker-main.ts), each pinned to one node, and reading what
 * they print.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readChildLines, type ChildExit, type OutputLines } from "../../support/output-lines.js";

const script = fileURLToPath(new URL("./worker-main.ts", import.meta.url));

/** Options of one worker process (reference §6.17 harness values, scaled to the CI budget). */
export interface E2eWorkerOptions {
  /** Handlers at once. */
  readonly concurrency: number;
  /** The task consumers' ack wait, ms. */
  readonly ackWaitMs: number;
  /** How long a SIGTERM waits for running handlers, ms. */
  readonly shutdownGraceMs: number;
  readonly claimRefreshIntervalMs: number;
  /** Hand-back delay of a task this worker cannot run (a claim it lacks), ms. */
  readonly claimRetryDelayMs: number;
  /** The scheduler lease, ms. */
  readonly leaseMs: number;
  readonly sweepCheckIntervalMs: number;
  readonly sweepIntervalMs: number;
  readonly strandedAfterMs: number;
}

/** One printed line and when the test read it (Date.now()). */
export interface Line {
  readonly text: string;
  readonly at: number;
}

/** A running worker process. */
export interface E2eWorker {
  readonly id: string;
  /** Index of the node its `NATS_URL` names. */
  readonly node: number;
  readonly child: ChildProcess;
  readonly out: OutputLines<Line>;
  /** Resolves with the first line matching `pattern` (printed before or later); rejects after `timeoutMs` saying what it waited for. */
  waitFor(pattern: RegExp, timeoutMs: number, what: string): Promise<Line>;
  /** Settles when the process has exited and its stdout is read. */
  readonly exited: Promise<ChildExit>;
}

/** Lines of `worker` whose first word is `verb`, split into words. */
export function linesOf(worker: E2eWorker, verb: string): string[][] {
  return worker.out.lines.map((l) => l.text.split(" ")).filter((w) => w[0] === verb);
}

/**
 * Spawns worker `id` with `NATS_URL` = `url` (node `node`) and waits (up to 30 s) for its `ready` line.
 * @throws Error when it exits first or is not ready in time (the process is then killed).
 */
export async function startE2eWorker(id: string, node: number, url: string, claims: readonly string[], options: E2eWorkerOptions): Promise<E2eWorker> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, NATS_URL: url, WORKER_ID: id, E2E_CLAIMS: claims.join(","), E2E_OPTIONS: JSON.stringify(options) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const { out, exited } = readChildLines<Line>(child, (text) => ({ text, at: Date.now() }));
  const worker: E2eWorker = {
    id,
    node,
    child,
    out,
    exited,
    waitFor: (pattern, timeoutMs, what) =>
      out.waitFor(
        (l) => pattern.test(l.text),
        timeoutMs,
        () => new Error(`worker ${id}: ${what}: no line matching ${String(pattern)} within ${timeoutMs} ms; last lines: ${JSON.stringify(out.lines.slice(-15).map((l) => l.text))}`),
      ),
  };
  try {
    await Promise.race([
      worker.waitFor(/^ready /, 30_000, "start"),
      exited.then(({ code, signal }) => {
        throw new Error(`worker ${id} exited before ready (code ${String(code)}, signal ${String(signal)})`);
      }),
    ]);
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    throw err;
  }
  return worker;
}
