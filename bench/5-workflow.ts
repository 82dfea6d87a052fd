/**
 * Scenario 5 — workflow: D DAGs of 10 steps each: a chain c1→c2→c3→c4→c5 where the last step c5 is
 * also the join of a fan-out of five independent steps f1..f5 (c5 takes c4's and f1..f5's results).
 * All DAGs submitted at once (20 submits in flight), then every c5 awaited. Steps per second.
 * ours: Workflow + Worker (stepHook, middleware, concurrency 64) + scheduler in the worker process;
 * the producer submits and `workflow.await`s. BullMQ: FlowProducer trees (c5 parent of c4 … c1 and
 * of f1..f5; parents read getChildrenValues()), removeOnComplete true, c5 awaited through
 * QueueEvents. No raw floor: raw JetStream has no DAGs.
 *
 * ours also reports `ops_per_step`: the broker operations of producer and worker child together
 * (bench/lib/op-counts.ts), divided by the steps run. BENCH_OPS_WHERE=1 attributes each op to its
 * caller in src/ (slows the run: read its counts, not its timing).
 */
import { randomUUID } from "node:crypto";
import { Child, alternate, processCpuUs, envInt, isMain, now, pool, withTimeout, type Figures, type System } from "./lib/harness.js";
import { startServers } from "./lib/servers.js";
import { bullEvents, BULL_QUEUE, FlowProducer, prepare, redisConnection } from "./lib/systems.js";
import { Workflow, connectNats, silentLogger } from "../src/index.js";
import { join, step } from "./lib/handlers.js";
import { OpCounter, countingBroker, perStep, sumCounts } from "./lib/op-counts.js";

const D = envInt("BENCH_N5", 200);
const STEPS = 10;
const WHERE = process.env.BENCH_OPS_WHERE === "1";
/** The last ours run's broker operations (producer and child), for the report. */
let lastOps: Record<string, number> | undefined;

async function oursRun(natsUrl: string, ops: OpCounter): Promise<number> {
  const nats = await connectNats({ servers: natsUrl });
  const broker = countingBroker(nats, ops);
  try {
    const wf = await Workflow.create(broker, { logger: silentLogger });
    ops.reset(); // set-up is not counted
    const t0 = now();
    const joins: Promise<unknown>[] = [];
    await pool(D, 20, async () => {
      const dag = wf.dag({ id: randomUUID() });
      let prev = dag.step("c1", step, 0);
      for (let i = 2; i <= 4; i++) prev = dag.step(`c${i}`, step, prev.ref());
      const f = [1, 2, 3, 4, 5].map((k) => dag.step(`f${k}`, step, k));
      const c5 = dag.step("c5", join, prev.ref(), f[0]!.ref(), f[1]!.ref(), f[2]!.ref(), f[3]!.ref(), f[4]!.ref());
      await wf.submit(dag);
      const r = wf.await(c5);
      r.catch(() => {});
      joins.push(r);
    });
    await Promise.all(joins);
    return now() - t0;
  } finally {
    await broker.close();
  }
}

async function bullRun(redisPort: number): Promise<number> {
  const flow = new FlowProducer({ connection: redisConnection(redisPort) });
  const waiters = new Map<string, { resolve(v: unknown): void; reject(e: Error): void }>();
  const events = await bullEvents(redisPort, waiters);
  const opts = { removeOnComplete: true, removeOnFail: true };
  try {
    const t0 = now();
    const joins: Promise<unknown>[] = [];
    await pool(D, 20, async () => {
      const id = randomUUID();
      joins.push(new Promise((resolve, reject) => waiters.set(id, { resolve, reject })));
      let chain: any = { name: "step", queueName: BULL_QUEUE, data: { prev: 0 }, opts };
      for (let i = 2; i <= 4; i++) chain = { name: "step", queueName: BULL_QUEUE, data: {}, opts, children: [chain] };
      const fan = [1, 2, 3, 4, 5].map((k) => ({ name: "step", queueName: BULL_QUEUE, data: { prev: k }, opts }));
      await flow.add({ name: "join", queueName: BULL_QUEUE, data: {}, opts: { ...opts, jobId: id }, children: [chain, ...fan] });
    });
    await Promise.all(joins);
    return now() - t0;
  } finally {
    await events.close();
    await flow.close();
  }
}

function prefixed(prefix: string, figures: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [prefix + k, v]));
}

async function once(system: System): Promise<Figures> {
  const servers = await startServers();
  try {
    await prepare(system, servers.natsUrl);
    const countOps = system === "ours" ? (WHERE ? ("where" as const) : true) : undefined;
    const child = await Child.spawn({ system, natsUrl: servers.natsUrl, redisPort: servers.redisPort, concurrency: 64, workflow: true, ...(countOps ? { countOps } : {}) });
    const producerOps = new OpCounter(WHERE);
    let ms: number;
    let cpu: Record<string, number> = {};
    try {
      await child.go();
      const serverPid = system === "ours" ? servers.natsPid : servers.redisPid;
      const server0 = processCpuUs(serverPid);
      await child.cpuUs(); // from here
      const producer0 = process.cpuUsage();
      ms = await withTimeout(system === "ours" ? oursRun(servers.natsUrl, producerOps) : bullRun(servers.redisPort), 150_000, `${system} workflow`);
      const producer = process.cpuUsage(producer0);
      const worker = await child.cpuUs();
      const server1 = processCpuUs(serverPid);
      const perStepUs = (us: number) => Math.round(us / (D * STEPS));
      cpu = { producer: perStepUs(producer.user + producer.system), worker: perStepUs(worker) };
      if (server0 !== undefined && server1 !== undefined) cpu.server = perStepUs(server1 - server0);
      cpu.total = Object.values(cpu).reduce((a, b) => a + b, 0);
      if (system === "ours") lastOps = sumCounts(producerOps.snapshot(), await child.ops());
    } finally {
      await child.stop();
    }
    // CPU µs per step of the producer, the worker process and the server (nats-server or redis):
    // what the run cost, less sensitive than its speed to other work on a shared machine.
    return { steps_per_s: ((D * STEPS) / ms) * 1000, dags_per_s: (D / ms) * 1000, total_ms: ms, ...prefixed("cpu_us_per_step_", cpu) };
  } finally {
    await servers.stop();
  }
}

/** One BullMQ flows run of this scenario (for scenario 9's same-run comparison). */
export function onceBullmq(): Promise<Figures> {
  return once("bullmq");
}

export function run() {
  return alternate("5-workflow", ["ours", "bullmq"], once, {
    notes: {
      ours: `${D} DAGs × 10 steps (chain of 5 whose last step joins a fan-out of 5), submit (20 in flight) + workflow.await(c5)`,
      bullmq: "FlowProducer trees of the same shape; parents read getChildrenValues(); c5 awaited via QueueEvents",
    },
    // The op counts of the last ours run (they hardly vary between runs).
    extra: (system) => (system === "ours" && lastOps ? { ops_per_step: perStep(lastOps, D * STEPS) } : undefined),
  });
}

if (isMain(import.meta.url)) await run();
