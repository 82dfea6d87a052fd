/**
 * Starting workflow worker child processes (test/support/workflow-worker-process.ts) for tests that
 * kill processes, reading what they print, and watching the results their DAG writes.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, expect } from "vitest";
import type { KvBucket } from "../../src/broker/index.js";

const script = fileURLToPath(new URL("./workflow-worker-process.ts", import.meta.url));

/** Options of one workflow worker process (see workflow-worker-process.ts). */
export interface WorkflowWorkerOptions {
  readonly concurrency?: number;
  readonly ackWaitMs?: number;
  readonly leaseMs?: number;
  readonly sweepCheckIntervalMs?: number;
  readonly sweepIntervalMs?: number;
  readonly strandedAfterMs?: number;
  /** Replicas of the workflow's event stream and DAG bucket. @default 1 */
  readonly replicas?: number;
  /** `both` (default): a worker and a scheduler; `worker`: no scheduler; `scheduler`: no worker. */
  readonly role?: "both" | "worker" | "scheduler";
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

/**
 * Step ids of the `ran` (or `end`) lines of one process, in order; expects each such line to name
 * the process's own worker id.
 */
export function stepLines(proc: WorkflowWorkerProcess, verb: "ran" | "end"): string[] {
  const out: string[] = [];
  for (const line of proc.lines) {
    const [v, stepId, worker] = line.split(" ");
    if (v === verb && stepId !== undefined) {
      expect(worker).toBe(proc.id); // the process prints its own worker id
      out.push(stepId);
    }
  }
  return out;
}

/** The `leaf-*` steps the process printed `ran` for and not (yet) `end`: the leaves it holds running. */
export function inFlightLeaves(proc: WorkflowWorkerProcess): string[] {
  const open = new Set<string>();
  for (const line of proc.lines) {
    const [v, stepId] = line.split(" ");
    if (!stepId?.startsWith("leaf-")) continue;
    if (v === "ran") open.add(stepId);
    else if (v === "end") open.delete(stepId);
  }
  return [...open];
}

/** How many `leaf-*` step runs the processes printed, all together. */
export function leafRuns(procs: readonly WorkflowWorkerProcess[]): number {
  return procs.reduce((n, p) => n + stepLines(p, "ran").filter((s) => s.startsWith("leaf-")).length, 0);
}

/**
 * Counts every write (PUT) of a result key of `dagId` in the DAG bucket `kv`, seen live, until
 * `signal` aborts; `done` settles when the watch has ended.
 */
export function watchResultPuts(kv: KvBucket, dagId: string, signal: AbortSignal): { puts: Map<string, number>; done: Promise<void> } {
  const puts = new Map<string, number>();
  const done = (async () => {
    for await (const e of kv.watch({ key: `${dagId}.result.>`, include: "all", signal })) {
      if (e.operation === "PUT") puts.set(e.key, (puts.get(e.key) ?? 0) + 1);
    }
  })();
  return { puts, done };
}

/** Expects one result write (see {@link watchResultPuts}) for each of `stepIds`, and none for any other step. */
export function expectOneResultPutEach(puts: ReadonlyMap<string, number>, dagId: string, stepIds: readonly string[]): void {
  const expectedKeys = stepIds.map((id) => `${dagId}.result.${id}`).sort();
  expect([...puts.keys()].sort()).toEqual(expectedKeys);
  expect([...puts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
}
