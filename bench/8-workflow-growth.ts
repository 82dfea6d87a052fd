/**
 * Scenario 8 — workflow growth (issue 14), ours only (BullMQ flows are not compared here).
 *
 * Part A, one DAG at a time on one server, worker + scheduler in a child (concurrency 64):
 * - fan-out/fan-in DAGs of N steps (a root, N−2 steps taking the root's result, a join `after`
 *   all of them) for N in BENCH_N8_SIZES (default 10,100,1000,10000);
 * - a chain of BENCH_N8_CHAIN steps (default 1000), each taking the previous one's result.
 * Each: steps/s from submit to the awaited last step (submit time reported too), the broker ops per
 * step of producer + child (counted until the event stream is drained: the time that takes after the
 * last step is reported, not counted in steps/s), and for the largest fan-out the child's heap (after gc) before and at its
 * peak during the run (sampled every second, which costs the run a few gc pauses).
 *
 * Part B, BENCH_N8_AWAITS (default 10,000) one-step DAGs submitted with no worker running, then all
 * awaited at once from this process: heap per outstanding await (after gc; needs --expose-gc), the
 * consumers of stream KV_ebind-dags (each KV watch is one) and the watches this process opened.
 * Then a worker child starts and the time until every await resolved is reported.
 *
 * Run: `node --expose-gc --import tsx 8-workflow-growth.ts`; prints JSON lines.
 */
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { Child, envInt, gcHeap, isMain, now, pool, withTimeout } from "./lib/harness.js";
import { startNode } from "../src/embed/index.js";
import { Workflow, connectNats, ensureStreams, silentLogger, type Broker, type NatsBroker, type Step } from "../src/index.js";
import { noop, step } from "./lib/handlers.js";
import { OpCounter, countingBroker, perStep, sumCounts } from "./lib/op-counts.js";

const SIZES = (process.env.BENCH_N8_SIZES ?? "10,100,1000,10000").split(",").filter(Boolean).map(Number);
const CHAIN = envInt("BENCH_N8_CHAIN", 1000);
const AWAITS = envInt("BENCH_N8_AWAITS", 10_000);
const TIMEOUT_MS = envInt("BENCH_N8_TIMEOUT_MS", 600_000);

const line = (o: object): void => void process.stdout.write(JSON.stringify({ scenario: "8-workflow-growth", system: "ours", ...o }) + "\n");
const mib = (b: number): number => Number((b / 2 ** 20).toFixed(2));

type Shape = { kind: "fanout" | "chain"; steps: number };

/** Builds one DAG of the shape; returns it with the step to await. */
function build(wf: Workflow, shape: Shape): { dag: ReturnType<Workflow["dag"]>; last: Step<unknown> } {
  const dag = wf.dag({ id: randomUUID() });
  if (shape.kind === "chain") {
    let prev = dag.step("c1", step, 0);
    for (let i = 2; i <= shape.steps; i++) prev = dag.step(`c${i}`, step, prev.ref());
    return { dag, last: prev };
  }
  const root = dag.step("r", step, 0);
  const fan = Array.from({ length: shape.steps - 2 }, (_, i) => dag.step(`f${i + 1}`, step, root.ref()));
  return { dag, last: dag.step("j", noop, "x").after(...fan) };
}

/** Waits until the event stream is empty (every event handled and acked); returns how long it took. */
async function drain(broker: { streamState(name: string): Promise<{ messages: number } | null> }): Promise<number> {
  const t0 = now();
  while (((await broker.streamState("EBIND_DAG_EVENTS"))?.messages ?? 0) > 0) {
    if (now() - t0 > TIMEOUT_MS) throw new Error("events not drained");
    await new Promise((r) => setTimeout(r, 50));
  }
  return now() - t0;
}

/** A fresh nats-server with the streams, a connection to it and a counting broker over that connection, for `fn`. */
async function onFreshServer(fn: (env: { url: string; nats: NatsBroker; broker: Broker; ops: OpCounter }) => Promise<void>): Promise<void> {
  const node = await startNode();
  try {
    const nats = await connectNats({ servers: node.url });
    try {
      await ensureStreams(nats);
      const ops = new OpCounter();
      await fn({ url: node.url, nats, broker: countingBroker(nats, ops), ops });
    } finally {
      await nats.close();
    }
  } finally {
    await node.stop();
  }
}

async function partA(): Promise<void> {
  await onFreshServer(async ({ url, nats, broker, ops }) => {
    const child = await Child.spawn({ system: "ours", natsUrl: url, redisPort: 0, concurrency: 64, workflow: true, countOps: true }, ["--expose-gc"]);
    try {
      await child.go();
      const wf = await Workflow.create(broker, { logger: silentLogger });
      const largest = Math.max(...SIZES);
      const shapes: Shape[] = [...SIZES.map((n) => ({ kind: "fanout" as const, steps: n })), { kind: "chain", steps: CHAIN }];
      for (const shape of shapes) {
        const sampleHeap = shape.kind === "fanout" && shape.steps === largest;
        const heapBefore = sampleHeap ? await child.heap() : 0;
        await child.ops();
        ops.reset();
        const { dag, last } = build(wf, shape);
        const t0 = now();
        await wf.submit(dag);
        const submitMs = now() - t0;
        let peak = heapBefore;
        let sampling = sampleHeap;
        const sampler = (async () => {
          while (sampling) {
            await new Promise((r) => setTimeout(r, 1000));
            if (sampling) peak = Math.max(peak, await child.heap());
          }
        })();
        await withTimeout(wf.await(last), TIMEOUT_MS, `${shape.kind} of ${shape.steps}`);
        const ms = now() - t0;
        sampling = false;
        await sampler;
        // The last step can end before every event of the DAG was handled: let them be, so the next
        // shape starts on a quiet scheduler and these ops are counted here.
        const drained = await drain(nats);
        const counts = sumCounts(ops.snapshot(), await child.ops());
        line({
          shape: shape.kind,
          steps: shape.steps,
          steps_per_s: Number(((shape.steps / ms) * 1000).toFixed(1)),
          total_ms: Math.round(ms),
          submit_ms: Math.round(submitMs),
          events_drained_ms: Math.round(drained),
          ...(sampleHeap ? { child_heap_before_mib: mib(heapBefore), child_heap_peak_mib: mib(peak), producer_heap_mib: mib(gcHeap()) } : {}),
          ops_per_step: perStep(counts, shape.steps),
        });
      }
    } finally {
      await child.stop();
    }
  });
}

async function partB(): Promise<void> {
  await onFreshServer(async ({ url, nats, broker, ops }) => {
    const wf = await Workflow.create(broker, { logger: silentLogger });
    const steps: Step<unknown>[] = [];
    const t0 = now();
    await pool(AWAITS, 50, async () => {
      const dag = wf.dag({ id: randomUUID() });
      const s = dag.step("s", step, 1);
      await wf.submit(dag);
      steps.push(s);
    });
    const submitMs = now() - t0;
    const consumersBefore = (await nats.streamState("KV_ebind-dags"))?.consumers ?? 0;
    const heapBefore = gcHeap();
    ops.reset();
    const stop = new AbortController();
    setMaxListeners(0, stop.signal); // every await is given this one signal
    const t1 = now();
    let failed = 0;
    let firstError: string | undefined;
    const waits = steps.map((s) =>
      wf.await(s, { signal: stop.signal }).catch((err: Error) => {
        if (stop.signal.aborted) return;
        failed++;
        firstError ??= err.message;
      }),
    );
    // Let every await reach its watch (each first reads the meta and the step), then the server.
    // Every await reads its step once at the start; then the server's consumers stop changing.
    const stepGets = (): number => [...ops.counts].filter(([k]) => k.startsWith("kv.get:step")).reduce((a, [, v]) => a + v, 0);
    for (let i = 0; i < 1200 && stepGets() + failed < AWAITS; i++) await new Promise((r) => setTimeout(r, 250));
    for (let last = -1, i = 0; i < 600; i++) {
      const c = (await nats.streamState("KV_ebind-dags"))?.consumers ?? 0;
      if (c === last) break;
      last = c;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const settleMs = now() - t1;
    const heapAfter = gcHeap();
    const consumers = (await nats.streamState("KV_ebind-dags"))?.consumers ?? 0;
    const watchesOpen = ops.watchesOpen;
    const opsWhileWaiting = ops.snapshot();
    const child = await Child.spawn({ system: "ours", natsUrl: url, redisPort: 0, concurrency: 64, workflow: true });
    let resolveMs = NaN;
    try {
      const t2 = now();
      await child.go();
      await withTimeout(Promise.all(waits), TIMEOUT_MS, `${AWAITS} awaits`).catch((err: Error) => (firstError ??= err.message));
      resolveMs = now() - t2;
    } finally {
      stop.abort();
      await child.stop();
    }
    line({
      part: "awaits",
      awaits: AWAITS,
      submit_ms: Math.round(submitMs),
      awaits_established_ms: Math.round(settleMs),
      heap_per_await_b: Math.round((heapAfter - heapBefore) / AWAITS),
      kv_consumers_before: consumersBefore,
      kv_consumers_while_awaiting: consumers,
      watches_open_in_process: watchesOpen,
      watches_peak_in_process: ops.watchesPeak,
      all_resolved_after_worker_start_ms: Math.round(resolveMs),
      awaits_failed: failed,
      ...(firstError ? { first_error: firstError } : {}),
      ops_while_awaiting: opsWhileWaiting,
    });
  });
}

export async function run(): Promise<void> {
  const parts = (process.env.BENCH_N8_PARTS ?? "a,b").split(",");
  if (parts.includes("a")) await partA();
  if (parts.includes("b")) await partB();
}

if (isMain(import.meta.url)) await run();
