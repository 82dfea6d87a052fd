/**
 * Scenario 10 — workflow latency: a 3-step chain (c1 → c2 → c3, each taking the previous result),
 * submitted and its last step awaited, one DAG at a time (`BENCH_N10` after 20 unmeasured
 * warm-ups). ours: Workflow + Worker (stepHook, concurrency 64) + scheduler in the worker process,
 * the producer submits and `workflow.await`s c3. BullMQ: a FlowProducer tree (c3 parent of c2 parent
 * of c1; parents read getChildrenValues()), c3 awaited through QueueEvents. p50 / p95 / p99 in ms.
 */
import { randomUUID } from "node:crypto";
import { Child, alternate, envInt, isMain, now, percentile, withTimeout, type Figures, type System } from "./lib/harness.js";
import { startServers } from "./lib/servers.js";
import { bullEvents, BULL_QUEUE, FlowProducer, prepare, redisConnection } from "./lib/systems.js";
import { Workflow, connectNats, silentLogger } from "../src/index.js";
import { step } from "./lib/handlers.js";

const N = envInt("BENCH_N10", 300);
const WARMUP = 20;

function figures(lat: number[]): Figures {
  return { p50_ms: percentile(lat, 50), p95_ms: percentile(lat, 95), p99_ms: percentile(lat, 99), mean_ms: lat.reduce((a, b) => a + b, 0) / lat.length };
}

async function ours(natsUrl: string): Promise<number[]> {
  const broker = await connectNats({ servers: natsUrl });
  try {
    const wf = await Workflow.create(broker, { logger: silentLogger });
    const lat: number[] = [];
    for (let i = 0; i < WARMUP + N; i++) {
      const t = now();
      const dag = wf.dag({ id: randomUUID() });
      const c1 = dag.step("c1", step, 0);
      const c2 = dag.step("c2", step, c1.ref());
      const c3 = dag.step("c3", step, c2.ref());
      await wf.submit(dag);
      await wf.await(c3);
      if (i >= WARMUP) lat.push(now() - t);
    }
    return lat;
  } finally {
    await broker.close();
  }
}

async function bull(redisPort: number): Promise<number[]> {
  const flow = new FlowProducer({ connection: redisConnection(redisPort) });
  const waiters = new Map<string, { resolve(v: unknown): void; reject(e: Error): void }>();
  const events = await bullEvents(redisPort, waiters);
  const opts = { removeOnComplete: true, removeOnFail: true };
  try {
    const lat: number[] = [];
    for (let i = 0; i < WARMUP + N; i++) {
      const t = now();
      const id = randomUUID();
      const done = new Promise((resolve, reject) => waiters.set(id, { resolve, reject }));
      const c1 = { name: "step", queueName: BULL_QUEUE, data: { prev: 0 }, opts };
      const c2 = { name: "step", queueName: BULL_QUEUE, data: {}, opts, children: [c1] };
      await flow.add({ name: "step", queueName: BULL_QUEUE, data: {}, opts: { ...opts, jobId: id }, children: [c2] });
      await done;
      if (i >= WARMUP) lat.push(now() - t);
    }
    return lat;
  } finally {
    await events.close();
    await flow.close();
  }
}

async function once(system: System): Promise<Figures> {
  const servers = await startServers();
  try {
    await prepare(system, servers.natsUrl);
    const child = await Child.spawn({ system, natsUrl: servers.natsUrl, redisPort: servers.redisPort, concurrency: 64, workflow: true });
    try {
      await child.go();
      const lat = await withTimeout(system === "ours" ? ours(servers.natsUrl) : bull(servers.redisPort), 150_000, `${system} chain latency`);
      return figures(lat);
    } finally {
      await child.stop();
    }
  } finally {
    await servers.stop();
  }
}

export function run() {
  return alternate("10-chain-latency", ["ours", "bullmq"], once, {
    notes: {
      ours: `${N} sequential submits of a 3-step chain, each awaited (workflow.await(c3))`,
      bullmq: "FlowProducer chain c3 ← c2 ← c1, awaited via QueueEvents",
    },
  });
}

if (isMain(import.meta.url)) await run();
