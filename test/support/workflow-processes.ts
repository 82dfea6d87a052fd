/**
 * Starting workflow worker child processes (test/support/workflow-worker-process.ts) for tests that
 * kill processes, and reading what they print.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

const script = fileURLToPath(new URL("./workflow-worker-process.ts", import.meta.url));

/** Options of one workflow worker process (see workflow-worker-process.ts). */
export interface WorkflowWorkerOptions {
  readonly concurrency?: number;
  readonly ackWaitMs?: number;
  readonly leaseMs?: number;
  readonly sweepCheckIntervalMs?: number;
  readonly sweepIntervalMs?: number;
  readonly strandedAfterMs?: number;
}

/** A workflow worker child process and the lines it printed. */
export interface WorkflowWorkerProcess {
  readonly id: string;
  readonly child: ChildProcess;
  /** Every complete stdout line so far. */
  readonly lines: string[];
  /** Calls `listener` after each chunk of new lines; returns a function removing it. */
  onLines(listener: () => void): () => void;
  /** Resolves with the first line matching `pattern` (including ones already printed). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited (with its code and signal), and stdout is fully read. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Registers an afterEach that SIGKILLs every workflow worker process this test started and left running. */
export function useWorkflowWorkerProcesses(): (url: string, workerId: string, options?: WorkflowWorkerOptions) => Promise<WorkflowWorkerProcess> {
  const started: ChildProcess[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return async (url, workerId, options = {}) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      env: { ...process.env, NATS_URL: url, WORKER_ID: workerId, WORKFLOW_WORKER_OPTIONS: JSON.stringify(options) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    started.push(child);
    const lines: string[] = [];
    const listeners = new Set<() => void>();
    let buffer = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        lines.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
      for (const l of [...listeners]) l();
    });
    // "close" fires after the process exited and its stdio streams ended: every line is in `lines`.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("close", (code, signal) => resolve({ code, signal })),
    );
    const onLines = (listener: () => void): (() => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    };
    const proc: WorkflowWorkerProcess = {
      id: workerId,
      child,
      lines,
      onLines,
      exited,
      waitFor(pattern, timeoutMs = 30_000) {
        return new Promise((resolve, reject) => {
          let off = (): void => {};
          const check = (): boolean => {
            const hit = lines.find((l) => pattern.test(l));
            if (hit === undefined) return false;
            off();
            clearTimeout(timer);
            resolve(hit);
            return true;
          };
          const timer = setTimeout(() => {
            off();
            reject(new Error(`workflow worker ${workerId}: no line matching ${String(pattern)} within ${timeoutMs} ms; got ${JSON.stringify(lines.slice(-20))}`));
          }, timeoutMs);
          if (!check()) off = onLines(check);
        });
      },
    };
    await Promise.race([
      proc.waitFor(/^ready /),
      exited.then(({ code, signal }) => {
        throw new Error(`workflow worker ${workerId} exited before ready (code ${String(code)}, signal ${String(signal)})`);
      }),
    ]);
    return proc;
  };
}
