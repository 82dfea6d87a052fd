/**
 * Scenario 9 — the floor under a workflow step: what the JetStream operations a step cannot do
 * without cost on this machine, with nothing of the engine around them. One Node process, one
 * nats-server (file storage), everything pipelined (`BENCH_N9` items, `BENCH_IN_FLIGHT9` = 200 in
 * flight; with 1 in flight, 1000 / per_s is the latency of one item in ms). Through our
 * broker port (the same code paths the engine uses: the coalescing transport, the reply
 * multiplexer), measured as CPU µs per item of the process and of nats-server:
 * - `kv_get`, `kv_update` (compare-and-set), `publish` (into a work-queue stream) alone;
 * - `step`: the sequence a step of scenario 5 needs at the least under the durability rules — the
 *   submit's create, pending→running, the task's publish, the start gate's attempt, the result's
 *   create, done, the completed event's publish, the scheduler's read of the DAG's meta — 8 round
 *   trips, sequential within an item. No deliveries or acks (the engine also pays those), no
 *   awaits, no decoding: a floor, not a target.
 * - `step_full`: `step` plus what else every step of scenario 5 cannot skip under the same rules:
 *   the fence's second read of the meta after pending→running, the task's delivery to a worker
 *   through a durable pull consumer and its ack, the completed event's delivery to a scheduler and
 *   its ack, and the scheduler's read of the dependent step — 10 round trips, 2 deliveries, 2 acks.
 *   Still no awaits, no decoding, no graph: the least a step of this design costs.
 * Run with BENCH_FLOOR_VS_BULLMQ=1, it also runs scenario 5's BullMQ flows once per run, so the
 * floor's steps/s is a same-run ratio against BullMQ flows.
 * Compare `step`'s total CPU per item with scenario 5's `cpu_us_per_step_total` (ours and BullMQ's)
 * from the same machine: the gap between the floor and ours is the engine's own cost.
 */
import { connectNats } from "../src/index.js";
import { startNode } from "../src/embed/index.js";
import { envInt, isMain, median, processCpuUs, RUNS } from "./lib/harness.js";
import type { Broker } from "../src/broker/index.js";
import { onceBullmq } from "./5-workflow.js";

const N = envInt("BENCH_N9", 8000);
const IN_FLIGHT = envInt("BENCH_IN_FLIGHT9", 200);
type Mode = "kv_get" | "kv_update" | "publish" | "step" | "step_full";
const MODES: Mode[] = (process.env.BENCH_FLOOR_MODES?.split(",") as Mode[] | undefined) ?? ["kv_get", "kv_update", "publish", "step", "step_full"];
const VS_BULLMQ = process.env.BENCH_FLOOR_VS_BULLMQ === "1";

const utf8 = new TextEncoder();
/** About the size of a step record of scenario 5. */
const RECORD = utf8.encode(
  JSON.stringify({ dag_id: "0b5e7a8c-1f7e-4a53-9c3e-6d1f2b7a9e10", step_id: "c3", fn_name: "step", args_json: '[{"$ref":"c2"}]', deps: ["c2"], status: "running", attempt: 1, added_at: new Date().toISOString() }),
);

interface Floor {
  per_s: number;
  client_cpu_us: number;
  server_cpu_us: number;
}

/**
 * Delivers the messages of a durable pull consumer (as the engine's consume loop does: batches of up
 * to 256, each delivery acked) to whoever waits for its subject; returns the waiter registry and a stop.
 */
function deliveries(broker: Broker, stream: string, durable: string) {
  const waiting = new Map<string, () => void>();
  const early = new Set<string>();
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      for await (const d of broker.pull(stream, durable, { max: 256, expiresMs: 200, signal: abort.signal })) {
        d.ack();
        const w = waiting.get(d.subject);
        if (w) {
          waiting.delete(d.subject);
          w();
        } else early.add(d.subject);
      }
    }
  })().catch(() => {});
  return {
    /** Resolves once the message on `subject` was delivered and acked. */
    wait: (subject: string) =>
      new Promise<void>((resolve) => {
        if (early.delete(subject)) resolve();
        else waiting.set(subject, resolve);
      }),
    stop: async () => {
      abort.abort();
      await loop;
    },
  };
}

async function once(mode: Mode): Promise<Floor> {
  const node = await startNode();
  const broker = await connectNats({ servers: node.url });
  try {
    const kv = await broker.kv("floor", { history: 1 });
    await broker.ensureStream({ name: "FLOOR", subjects: ["floor.>"], retention: "workqueue", maxAgeMs: 0, replicas: 1 });
    await kv.create("seed", RECORD);
    let tasks: ReturnType<typeof deliveries> | undefined;
    let events: ReturnType<typeof deliveries> | undefined;
    if (mode === "step_full") {
      await broker.ensureStream({ name: "FLOOR_EVENTS", subjects: ["floorev.>"], retention: "workqueue", maxAgeMs: 0, replicas: 1 });
      await broker.ensureConsumer("FLOOR", { durable: "workers", filterSubject: "floor.>", ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 20_000 });
      await broker.ensureConsumer("FLOOR_EVENTS", { durable: "schedulers", filterSubject: "floorev.>", ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 20_000 });
      tasks = deliveries(broker, "FLOOR", "workers");
      events = deliveries(broker, "FLOOR_EVENTS", "schedulers");
    }
    let next = 0;
    const item = async (i: number): Promise<void> => {
      switch (mode) {
        case "kv_get":
          await kv.get("seed");
          return;
        case "kv_update":
          await kv.update(`k${i}`, RECORD, await kv.create(`k${i}`, RECORD)); // 2 ops: counted as one item below
          return;
        case "publish":
          await broker.publish(`floor.t.${i}`, RECORD);
          return;
        case "step": {
          let r = await kv.create(`d${i}.step.s`, RECORD); // submit
          r = await kv.update(`d${i}.step.s`, RECORD, r); // pending → running
          await broker.publish(`floor.t.${i}`, RECORD); // the task
          r = await kv.update(`d${i}.step.s`, RECORD, r); // the start gate's attempt
          await kv.create(`d${i}.result.s`, utf8.encode("42")); // the result
          await kv.update(`d${i}.step.s`, RECORD, r); // done
          await broker.publish(`floor.e.${i}`, RECORD); // the completed event
          await kv.get("seed"); // the scheduler's read of the DAG's meta
          return;
        }
        case "step_full": {
          let r = await kv.create(`d${i}.step.s`, RECORD); // submit
          r = await kv.update(`d${i}.step.s`, RECORD, r); // pending → running
          await kv.get("seed"); // the fence: the meta read again
          const task = tasks!.wait(`floor.t.${i}`);
          await broker.publish(`floor.t.${i}`, RECORD); // the task
          await task; // delivered to a worker, acked
          r = await kv.update(`d${i}.step.s`, RECORD, r); // the start gate's attempt
          await kv.create(`d${i}.result.s`, utf8.encode("42")); // the result
          await kv.update(`d${i}.step.s`, RECORD, r); // done
          const event = events!.wait(`floorev.${i}`);
          await broker.publish(`floorev.${i}`, RECORD); // the completed event
          await event; // delivered to a scheduler, acked
          await kv.get("seed"); // the scheduler's read of the DAG's meta
          await kv.get(`d${i}.step.s`); // and of the dependent step
        }
      }
    };
    const server0 = processCpuUs(node.pid);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < N) await item(next++);
      }),
    );
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const server = (processCpuUs(node.pid) ?? NaN) - (server0 ?? NaN);
    await tasks?.stop();
    await events?.stop();
    // kv_update items are a create plus an update: per operation.
    const ops = mode === "kv_update" ? 2 * N : N;
    return { per_s: (ops / ms) * 1000, client_cpu_us: (cpu.user + cpu.system) / ops, server_cpu_us: server / ops };
  } finally {
    await broker.close();
    await node.stop();
  }
}

export async function run(): Promise<void> {
  const bullmq: number[] = [];
  for (const mode of MODES) {
    const runs: Floor[] = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await once(mode));
      if (VS_BULLMQ && mode === "step_full") bullmq.push(Number((await onceBullmq()).steps_per_s));
    }
    const m = (k: keyof Floor) => Math.round(median(runs.map((r) => r[k])));
    const vs = VS_BULLMQ && mode === "step_full" ? { bullmq_flows_steps_per_s: Math.round(median(bullmq)), ratio_vs_bullmq: Math.round((m("per_s") / median(bullmq)) * 100) / 100 } : {};
    const line = { scenario: "9-step-floor", system: "ours", mode, runs, median: { per_s: m("per_s"), client_cpu_us: m("client_cpu_us"), server_cpu_us: m("server_cpu_us"), total_cpu_us: m("client_cpu_us") + m("server_cpu_us"), ...vs } };
    console.log(JSON.stringify(line));
  }
}

if (isMain(import.meta.url)) await run();
