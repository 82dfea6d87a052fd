/**
 * Workflow worker child processes (test/support/workflow-worker-process.ts) for the fault suite and
 * the soak, each pinned to one cluster node (connected to that node's URL only; the client learns
 * the others from the cluster and moves there when its node dies). Free of vitest, so the soak
 * script can use it too.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readChildLines, type ChildExit } from "../../support/output-lines.js";
import type { WorkflowWorkerOptions } from "../../support/workflow-processes.js";
import { REPLICAS } from "./app.js";

const script = fileURLToPath(new URL("../../support/workflow-worker-process.ts", import.meta.url));

/**
 * The worker options every fault test and its processes share; each test adds its own `concurrency`,
 * `strandedAfterMs` and `role`. Streams and bucket at {@link REPLICAS}; short waits, so a fault's
 * work is taken over within seconds: task ack wait 2 s, scheduler lease 1.5 s, the sweep checked
 * every 250 ms and run every 1 s.
 */
export const CHAOS_WORKER_OPTIONS = {
  replicas: REPLICAS,
  ackWaitMs: 2000,
  leaseMs: 1500,
  sweepCheckIntervalMs: 250,
  sweepIntervalMs: 1000,
} as const satisfies WorkflowWorkerOptions;

/** One workflow worker process. */
export interface FaultProc {
  /** Its worker id (also its elector id), e.g. `w1-3`: slot w1, third incarnation. */
  readonly id: string;
  /** Index of the node whose URL it was given. */
  readonly node: number;
  readonly child: ChildProcess;
  /** Every complete stdout line so far. */
  readonly lines: string[];
  /** The first line matching `pattern` (printed before or later); rejects after `timeoutMs` naming what it waited for. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Settles when the process has exited and its stdout is fully read. */
  readonly exited: Promise<ChildExit>;
}

/** Starts and tracks workflow worker processes; {@link killAll} SIGKILLs the ones still running. */
export class FaultProcs {
  /** Every process started, in order (running or not). */
  readonly all: FaultProc[] = [];

  /**
   * Starts a process with worker id `id` connected to `url` (node `node`) and waits for its `ready`
   * line (30 s by default).
   * @throws Error when it exits or stays silent before ready.
   */
  async start(url: string, node: number, id: string, options: WorkflowWorkerOptions, readyTimeoutMs = 30_000): Promise<FaultProc> {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      env: { ...process.env, NATS_URL: url, WORKER_ID: id, WORKFLOW_WORKER_OPTIONS: JSON.stringify(options) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const { out, exited } = readChildLines(child, (l) => l);
    const proc: FaultProc = {
      id,
      node,
      child,
      lines: out.lines,
      exited,
      waitFor: (pattern, timeoutMs = 30_000) =>
        out.waitFor(
          (l) => pattern.test(l),
          timeoutMs,
          () => new Error(`process ${id} (node ${node}): no line matching ${String(pattern)} within ${timeoutMs} ms; last lines ${JSON.stringify(out.lines.slice(-10))}`),
        ),
    };
    this.all.push(proc);
    await Promise.race([
      proc.waitFor(/^ready /, readyTimeoutMs),
      exited.then(({ code, signal }) => {
        throw new Error(`process ${id} (node ${node}) exited before ready (code ${String(code)}, signal ${String(signal)})`);
      }),
    ]);
    return proc;
  }

  /** The processes not known to have exited. */
  running(): FaultProc[] {
    return this.all.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  }

  /** SIGKILLs `proc` and resolves once it has exited. */
  async kill(proc: FaultProc): Promise<void> {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
    await proc.exited;
  }

  /** SIGTERMs every running process (a clean stop: each prints `stopped`), SIGKILL after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    const procs = this.running();
    for (const p of procs) p.child.kill("SIGTERM");
    const timer = setTimeout(() => {
      for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    }, graceMs);
    await Promise.all(procs.map((p) => p.exited));
    clearTimeout(timer);
  }

  /** SIGKILLs every process still running (SIGCONT first, for a stopped one) and waits for them. */
  async killAll(): Promise<void> {
    const procs = this.running();
    for (const p of procs) {
      p.child.kill("SIGCONT");
      p.child.kill("SIGKILL");
    }
    await Promise.all(procs.map((p) => p.exited));
  }
}

/** `ran` lines across `procs`: `<dagId>/<stepId>` → the worker ids that printed `ran` for that step, in order per process. */
export function runsByStep(procs: readonly FaultProc[]): Map<string, string[]> {
  const runs = new Map<string, string[]>();
  for (const p of procs) {
    for (const line of p.lines) {
      const [verb, stepId, worker, dagId] = line.split(" ");
      if (verb !== "ran" || stepId === undefined || worker === undefined || dagId === undefined) continue;
      const key = `${dagId}/${stepId}`;
      runs.set(key, [...(runs.get(key) ?? []), worker]);
    }
  }
  return runs;
}

/** `leader` / `follower` lines of `procs`, oldest first: who, which, when (ms since the epoch). */
export function leadership(procs: readonly FaultProc[]): Array<{ id: string; leader: boolean; at: number }> {
  const out: Array<{ id: string; leader: boolean; at: number }> = [];
  for (const p of procs) {
    for (const line of p.lines) {
      const [verb, id, at] = line.split(" ");
      if ((verb === "leader" || verb === "follower") && id !== undefined && at !== undefined) out.push({ id, leader: verb === "leader", at: Number(at) });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/** Whether `proc`'s last leadership line says it leads. */
export function leads(proc: FaultProc): boolean {
  return proc.lines.filter((l) => /^(leader|follower) /.test(l)).at(-1)?.startsWith("leader ") ?? false;
}

/**
 * Time from `at` until a process other than `formerId` printed `leader` (after `at`), or undefined
 * when none did.
 */
export function failoverMs(procs: readonly FaultProc[], formerId: string, at: number): number | undefined {
  const next = leadership(procs).find((l) => l.leader && l.id !== formerId && l.at >= at);
  return next === undefined ? undefined : next.at - at;
}

/** Lines starting with `log ` (the engine's warnings and errors), prefixed with the process id. */
export function engineLogs(procs: readonly FaultProc[]): string[] {
  return procs.flatMap((p) => p.lines.filter((l) => l.startsWith("log ")).map((l) => `${p.id}: ${l}`));
}
