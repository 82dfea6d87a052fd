/**
 * Starting worker child processes for tests, and waiting for what they print.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";
import { OutputLines } from "./output-lines.js";

const script = fileURLToPath(new URL("./worker-process.ts", import.meta.url));

/** A worker child process and the lines it printed. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line matching `pattern` (including ones already printed). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Registers an afterEach that kills every worker process this test started. */
export function useWorkerProcesses(): (url: string, workerId: string, options?: Record<string, unknown>, env?: Record<string, string>) => Promise<WorkerProcess> {
  const started: ChildProcess[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return async (url, workerId, options = {}, env = {}) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      env: { ...process.env, NATS_URL: url, WORKER_ID: workerId, WORKER_OPTIONS: JSON.stringify(options), ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    started.push(child);
    const out = new OutputLines(child.stdout, (line) => line);
    const proc: WorkerProcess = {
      child,
      lines: out.lines,
      waitFor: (pattern, timeoutMs = 30_000) =>
        out.waitFor(
          (l) => pattern.test(l),
          timeoutMs,
          () => new Error(`worker ${workerId}: no line matching ${String(pattern)} within ${timeoutMs} ms; got ${JSON.stringify(out.lines)}`),
        ),
    };
    await proc.waitFor(/^ready /);
    return proc;
  };
}
