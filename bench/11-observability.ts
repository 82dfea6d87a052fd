/**
 * Scenario 11 — observability cost (issue 17): scenario 1's fire-and-forget throughput (N no-op tasks
 * enqueued with 1,000 publishes in flight, then processed by one worker process with concurrency 64)
 * on one embedded nats-server per run, with observers on in the producer and the worker
 * (lib/observability.ts) against none, in interleaved rounds (each round runs every variant, in an
 * order rotated from round to round). Variants: `plain` (no telemetry), `both` (tracing of every
 * task with the OpenTelemetry SDK and an in-memory exporter, and metrics: the target's
 * configuration), and, to tell the costs apart, `metrics`, `tracing`, and `sampled` (metrics, and
 * tracing with a parent-based 10 % ratio sampler). BENCH_VARIANTS11=both,metrics picks some.
 *
 * Prints one JSON line per variant; each observed one carries its ratio to plain: of the medians,
 * and the median of each round's own ratio (the figure to read: rounds drift on a shared machine).
 * Also the CPU time per task of the producer (during the enqueue), the worker (while processing)
 * and nats-server (throughout), which shared machines disturb less than throughput. Target: `both`
 * ≥ 0.9 × plain in total throughput.
 */
import { startNode } from "../src/embed/index.js";
import { Client, connectNats, ensureStreams, silentLogger } from "../src/index.js";
import { Child, envInt, isMain, median, now, pool, processCpuUs, round, RUNS, withTimeout, type Figures } from "./lib/harness.js";
import { noop, PAYLOAD } from "./lib/handlers.js";
import { observability, type ObserveMode } from "./lib/observability.js";

const N = envInt("BENCH_N11", 20_000);
const ROUNDS = envInt("BENCH_RUNS11", Math.max(RUNS, 5));
const INFLIGHT = 1000;
const CONCURRENCY = 64;
const SCENARIO = "11-observability";

type Variant = "plain" | ObserveMode;
const ALL: readonly Variant[] = ["plain", "both", "metrics", "tracing", "sampled"];
const picked = (process.env.BENCH_VARIANTS11 ?? "").split(",").filter(Boolean);
const VARIANTS: readonly Variant[] = picked.length ? ALL.filter((v) => v === "plain" || picked.includes(v)) : ALL;

const NOTES: Record<Variant, string> = {
  plain: `${N} enqueueAsync (1000 in flight), Worker concurrency 64 in a child process; no telemetry`,
  both: "combineTelemetry(openTelemetry(BasicTracerProvider + BatchSpanProcessor + InMemorySpanExporter; AsyncLocalStorage context manager), prometheusMetrics().telemetry) on the client and the worker, the worker observed, metrics collected every second in both processes",
  metrics: "prometheusMetrics().telemetry only, the worker observed, metrics collected every second",
  tracing: "openTelemetry(…) only, every task traced",
  sampled: "metrics, and tracing with ParentBasedSampler(TraceIdRatioBasedSampler(0.1)): a tenth of the tasks traced end to end",
};

async function once(variant: Variant): Promise<Figures> {
  const node = await startNode();
  const observed = variant === "plain" ? undefined : observability(variant);
  try {
    const broker = await connectNats({ servers: node.url });
    await ensureStreams(broker);
    const child = await Child.spawn({ system: "ours", natsUrl: node.url, redisPort: 0, concurrency: CONCURRENCY, target: N, ...(variant === "plain" ? {} : { observe: variant }) });
    const client = await Client.create(broker, { logger: silentLogger, telemetry: observed?.telemetry });
    let stats: Awaited<ReturnType<Child["stop"]>> | undefined;
    try {
      const serverCpu0 = processCpuUs(node.pid);
      const producerCpu0 = process.cpuUsage();
      const t0 = now();
      await withTimeout(pool(N, INFLIGHT, () => client.enqueueAsync(noop, PAYLOAD).then(() => undefined)), 120_000, "enqueue");
      const enqueueMs = now() - t0;
      const producerCpu = process.cpuUsage(producerCpu0);
      const t1 = now();
      await child.go();
      await child.done();
      const processMs = now() - t1;
      const workerCpuUs = await child.cpuUs();
      const serverCpuUs = (processCpuUs(node.pid) ?? NaN) - (serverCpu0 ?? NaN);
      stats = await child.stop();
      const spans = stats.observed?.spans ?? 0;
      if ((variant === "both" || variant === "tracing") && spans < N) throw new Error(`the ${variant} worker exported ${spans} spans for ${N} tasks: tracing is not on`);
      const producerCpuUs = producerCpu.user + producerCpu.system;
      return {
        enqueue_per_s: (N / enqueueMs) * 1000,
        process_per_s: (N / processMs) * 1000,
        total_per_s: (N / (enqueueMs + processMs)) * 1000,
        total_ms: enqueueMs + processMs,
        // CPU time per task, µs.
        producer_cpu_us: producerCpuUs / N,
        worker_cpu_us: workerCpuUs / N,
        server_cpu_us: serverCpuUs / N,
        total_cpu_us: (producerCpuUs + workerCpuUs + serverCpuUs) / N,
      };
    } finally {
      if (stats === undefined) await child.stop();
      await client.close();
      await broker.close();
    }
  } finally {
    await observed?.close();
    await node.stop();
  }
}

export async function run(): Promise<object[]> {
  const runs = new Map<Variant, Figures[]>(VARIANTS.map((v) => [v, []]));
  const paired = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  for (let i = 0; i < ROUNDS; i++) {
    const order = VARIANTS.map((_, k) => VARIANTS[(k + i) % VARIANTS.length]!);
    const got = new Map<Variant, Figures>();
    for (const variant of order) {
      const figures = await once(variant);
      got.set(variant, figures);
      runs.get(variant)!.push(figures);
      process.stderr.write(`[${SCENARIO}] round ${i + 1}/${ROUNDS} ${variant}: ${JSON.stringify(figures)}\n`);
    }
    for (const v of VARIANTS) if (v !== "plain") paired.get(v)!.push(got.get(v)!.total_per_s! / got.get("plain")!.total_per_s!);
  }
  const medianOf = (list: Figures[]): Figures => Object.fromEntries(Object.keys(list[0]!).map((k) => [k, round(median(list.map((f) => f[k]!)))]));
  const plain = medianOf(runs.get("plain")!);
  const lines = VARIANTS.map((variant) => {
    const med = medianOf(runs.get(variant)!);
    const base = { scenario: SCENARIO, system: variant, runs: runs.get(variant)!.map((f) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, round(v)]))), median: med, ratio_vs_bullmq: null, ratio_vs_raw: null };
    if (variant === "plain") return { ...base, notes: NOTES[variant] };
    return {
      ...base,
      ratio_vs_plain: Object.fromEntries(Object.keys(med).map((k) => [k, round(med[k]! / plain[k]!)])),
      paired_total_ratio_median: round(median(paired.get(variant)!)),
      paired_total_ratios: paired.get(variant)!.map((r) => round(r)),
      notes: NOTES[variant],
    };
  });
  for (const line of lines) process.stdout.write(JSON.stringify(line) + "\n");
  return lines;
}

if (isMain(import.meta.url)) await run();
