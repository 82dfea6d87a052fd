/** The shared harness: alternation, medians, percentiles, JSON lines, a bounded pool, child workers. */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** ours, raw JetStream (the floor), BullMQ, and go: the Go peer `ebgo` standing in for Go ebind (lib/go-peer.ts). */
export type System = "ours" | "raw" | "bullmq" | "go";
export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");

export type Figures = Record<string, number>;

export interface SystemResult {
  scenario: string;
  system: System;
  runs: Figures[];
  median: Figures;
  ratio_vs_bullmq: Figures | null;
  ratio_vs_raw: Figures | null;
  /** ours ÷ the Go peer, where the scenario runs it. */
  ratio_vs_go?: Figures | null;
  notes?: string;
  /** Scenario-specific figures that are no medians (5-workflow: `ops_per_step`). */
  [extra: string]: unknown;
}

export const now = (): number => performance.now();

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export const round = (x: number, d = 3): number => (Number.isFinite(x) ? Number(x.toFixed(d)) : x);

export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === "" ? fallback : Number.parseInt(v, 10);
}

/** How many runs of each system (≥ 3 unless BENCH_RUNS says otherwise). */
export const RUNS = envInt("BENCH_RUNS", 3);

/**
 * Runs `runOnce(system, i)` alternately — ours, raw, bullmq, ours, raw, bullmq, … — `runs` times
 * each, prints one JSON line per system with medians and ratios ours/bullmq and ours/raw, and
 * returns those lines.
 */
export async function alternate(
  scenario: string,
  systems: readonly System[],
  runOnce: (system: System, run: number) => Promise<Figures>,
  options: {
    runs?: number;
    notes?: Partial<Record<System, string>>;
    /** More fields for a system's line, asked for once every run is done. */
    extra?: (system: System) => Record<string, unknown> | undefined;
  } = {},
): Promise<SystemResult[]> {
  const runs = options.runs ?? RUNS;
  const pick = (process.env.BENCH_SYSTEMS ?? "").split(",").filter(Boolean);
  if (pick.length) systems = systems.filter((s) => pick.includes(s));
  const all = new Map<System, Figures[]>(systems.map((s) => [s, []]));
  for (let i = 0; i < runs; i++) {
    for (const system of systems) {
      const figures = await runOnce(system, i);
      all.get(system)!.push(figures);
      process.stderr.write(`[${scenario}] run ${i + 1}/${runs} ${system}: ${JSON.stringify(figures)}\n`);
    }
  }
  const medians = new Map<System, Figures>();
  for (const [system, list] of all) {
    const keys = Object.keys(list[0] ?? {});
    medians.set(system, Object.fromEntries(keys.map((k) => [k, round(median(list.map((f) => f[k]!)))])));
  }
  const ratio = (a: Figures, b: Figures | undefined): Figures | null =>
    b === undefined ? null : Object.fromEntries(Object.keys(a).map((k) => [k, round(a[k]! / b[k]!)]));
  const results: SystemResult[] = [];
  const ours = medians.get("ours") ?? {};
  for (const system of systems) {
    const med = medians.get(system)!;
    const line: SystemResult = {
      scenario,
      system,
      runs: all.get(system)!.map((f) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, round(v)]))),
      median: med,
      ratio_vs_bullmq: system === "ours" && medians.has("bullmq") ? ratio(ours, medians.get("bullmq")) : null,
      ratio_vs_raw: system === "ours" && medians.has("raw") ? ratio(ours, medians.get("raw")) : null,
      ...(system === "ours" && medians.has("go") ? { ratio_vs_go: ratio(ours, medians.get("go")) } : {}),
      ...(options.notes?.[system] ? { notes: options.notes[system] } : {}),
      ...options.extra?.(system),
    };
    results.push(line);
    process.stdout.write(JSON.stringify(line) + "\n");
  }
  return results;
}

/** Runs `fn(i)` for i in [0, n) with at most `inflight` calls pending at once. */
export async function pool(n: number, inflight: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(inflight, n) }, async () => {
    while (next < n) await fn(next++);
  });
  await Promise.all(lanes);
}

/** Rejects after `ms` with a message naming what hung. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** What the parent tells a worker child. */
export interface ChildConfig {
  system: System;
  natsUrl: string;
  redisPort: number;
  concurrency: number;
  /** Report `done` when this many handler runs have happened. */
  target?: number;
  /** Sample the heap (after gc) every this many runs (needs --expose-gc). */
  heapEvery?: number;
  workflow?: boolean;
  /** Count broker operations (ours): true, or "where" to attribute each to its caller (slow). */
  countOps?: boolean | "where";
  /** Tracing and/or metrics on (ours; lib/observability.ts). */
  observe?: "both" | "metrics" | "tracing" | "sampled";
}

export interface DoneMessage {
  type: "done";
  runs: number;
  ms: number;
  heap?: { runs: number; heapUsed: number }[];
}

/** A worker in its own process (node --import tsx lib/worker-child.ts), driven over IPC. */
export class Child {
  #messages: any[] = [];
  #wake: (() => void) | undefined;
  private constructor(readonly proc: ChildProcess) {
    proc.on("message", (m) => {
      this.#messages.push(m);
      this.#wake?.();
    });
  }

  static async spawn(config: ChildConfig, nodeArgs: string[] = []): Promise<Child> {
    const extra = (process.env.BENCH_CHILD_NODE_ARGS ?? "").split(" ").filter(Boolean);
    const proc = fork(join(BENCH_DIR, "lib", "worker-child.ts"), [JSON.stringify(config)], {
      cwd: BENCH_DIR,
      execArgv: ["--import", "tsx", ...nodeArgs, ...extra],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const child = new Child(proc);
    await withTimeout(child.next("ready"), 30_000, `${config.system} worker child ready`);
    return child;
  }

  async next(type: string): Promise<any> {
    for (;;) {
      const i = this.#messages.findIndex((m) => m.type === type);
      if (i >= 0) return this.#messages.splice(i, 1)[0];
      const e = this.#messages.find((m) => m.type === "error");
      if (e) throw new Error(`worker child: ${e.message}`);
      if (this.proc.exitCode !== null) throw new Error(`worker child exited with ${this.proc.exitCode}`);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        const t = setTimeout(resolve, 200);
        t.unref();
      });
    }
  }

  /** Starts consuming; resolves when the worker is running. */
  async go(): Promise<void> {
    this.proc.send({ type: "go" });
    await withTimeout(this.next("started"), 30_000, "worker child start");
  }

  /** The child's heapUsed after gc, in bytes (the child must run with --expose-gc). */
  async heap(): Promise<number> {
    this.proc.send({ type: "heap" });
    return ((await withTimeout(this.next("heap"), 30_000, "worker child heap")) as { heapUsed: number }).heapUsed;
  }

  /** The child's CPU time (user + system) in µs since it started consuming or since the last call. */
  async cpuUs(): Promise<number> {
    this.proc.send({ type: "cpu" });
    return ((await withTimeout(this.next("cpu"), 30_000, "worker child cpu")) as { us: number }).us;
  }

  /** The child's broker operations since the last call (or since it started), and resets them. */
  async ops(): Promise<Record<string, number>> {
    this.proc.send({ type: "ops" });
    return ((await withTimeout(this.next("ops"), 30_000, "worker child ops")) as { ops: Record<string, number> }).ops;
  }

  done(timeoutMs = 180_000): Promise<DoneMessage> {
    return withTimeout(this.next("done"), timeoutMs, "worker child done") as Promise<DoneMessage>;
  }

  async stop(): Promise<{ runs: number; ops?: Record<string, number>; observed?: { spans: number; scrapes: number } }> {
    if (this.proc.exitCode !== null) return { runs: -1 };
    const exited = once(this.proc, "exit");
    this.proc.send({ type: "stop" });
    const stats = await withTimeout(this.next("stopped"), 40_000, "worker child stop").catch(() => ({ runs: -1 }));
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(t);
    return stats;
  }
}

/**
 * CPU time (user + system) a process has used so far, in µs, from /proc (Linux); undefined when it
 * cannot be read. For the servers' share of a run: read before and after.
 */
export function processCpuUs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (clock ticks of 10 ms)
    return Number.isFinite(ticks) ? ticks * 10_000 : undefined;
  } catch {
    return undefined;
  }
}

/** Calls global.gc (the process must run with --expose-gc) a few times and returns heapUsed. */
export function gcHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc");
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** True when this module is the entry point. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(url) === process.argv[1];
}
