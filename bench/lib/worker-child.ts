/**
 * A worker in its own process, for every system alike. argv[2] is a ChildConfig (JSON). IPC:
 * parent → {go} starts consuming, → {stop} closes; child → {ready}, {started}, {done}, {stopped}.
 */
import { connect } from "@nats-io/transport-node";
import { jetstream, type JsMsg } from "@nats-io/jetstream";
import { Worker as BullWorker, type Job } from "bullmq";
import { Registry, Worker, Workflow, connectNats, silentLogger, type Scheduler } from "../../src/index.js";
import { counter, flaky, join, noop, step } from "./handlers.js";
import type { ChildConfig, DoneMessage } from "./harness.js";
import { BULL_QUEUE, RAW_DURABLE, RAW_STREAM, redisConnection } from "./systems.js";
import { OpCounter, countingBroker } from "./op-counts.js";
import { observability, type Observability } from "./observability.js";

const config = JSON.parse(process.argv[2]!) as ChildConfig;
const send = (m: object): void => {
  process.send?.(m);
};
const enc = new TextEncoder();
const dec = new TextDecoder();
/** Broker operations of this process (ours only), when the parent asked for them. */
const ops = config.countOps ? new OpCounter(config.countOps === "where") : undefined;

let t0 = 0;
const heap: { runs: number; heapUsed: number }[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
/** Samples heapUsed after gc, labelled with the run count that triggered it. */
function sampleHeap(label: number): void {
  if (!gc) return;
  for (let i = 0; i < 3; i++) gc();
  heap.push({ runs: label, heapUsed: process.memoryUsage().heapUsed });
}
counter.onRun = () => {
  const n = counter.runs;
  if (config.heapEvery && n % config.heapEvery === 0 && n !== config.target) setImmediate(() => sampleHeap(n)); // outside the handler
  if (config.target !== undefined && n === config.target) {
    const ms = performance.now() - t0;
    // let the last handler's ack / completion go out, then report
    setImmediate(() => {
      if (config.heapEvery) sampleHeap(n);
      const done: DoneMessage = { type: "done", runs: n, ms, ...(config.heapEvery ? { heap } : {}) };
      send(done);
    });
  }
};

type Stop = () => Promise<void>;
/** Tracing and metrics of this process, when the parent asked for them (ours, not workflows). */
let observed: Observability | undefined;

async function ours(): Promise<{ go(): Promise<Stop> }> {
  const nats = await connectNats({ servers: config.natsUrl });
  const broker = ops ? countingBroker(nats, ops) : nats;
  const registry = new Registry();
  for (const h of [noop, flaky, step, join]) registry.register(h);
  return {
    async go() {
      let scheduler: Scheduler | undefined;
      let worker: Worker;
      if (config.workflow) {
        const wf = await Workflow.create(broker, { logger: silentLogger });
        worker = await Worker.start(broker, registry, {
          concurrency: config.concurrency,
          logger: silentLogger,
          stepHook: wf.stepHook,
          middleware: [wf.middleware],
        });
        scheduler = await wf.startScheduler();
      } else {
        observed = config.observe ? observability(config.observe) : undefined;
        worker = await Worker.start(broker, registry, { concurrency: config.concurrency, logger: silentLogger, telemetry: observed?.telemetry });
        observed?.observeWorker(worker);
      }
      return async () => {
        await scheduler?.stop();
        await worker.close();
        await broker.close();
        await observed?.close();
      };
    },
  };
}

async function raw(): Promise<{ go(): Promise<Stop> }> {
  const nc = await connect({ servers: config.natsUrl });
  const js = jetstream(nc);
  const respond = (m: JsMsg, reply: string, id: string): void => {
    js.publish(reply, enc.encode(JSON.stringify({ id, result: 1 }))).then(
      () => m.ack(),
      () => m.nak(),
    );
  };
  const handle = (m: JsMsg): void => {
    const t = JSON.parse(dec.decode(m.data)) as { id: string; kind: string; reply?: string; payload: string };
    if (t.kind === "flaky" && m.info.deliveryCount < 3) {
      counter.runs++;
      counter.onRun?.();
      m.nak();
      return;
    }
    counter.runs++;
    counter.onRun?.();
    if (t.reply) respond(m, t.reply, t.id);
    else m.ack();
  };
  return {
    async go() {
      const c = await js.consumers.get(RAW_STREAM, RAW_DURABLE);
      const msgs = await c.consume({ max_messages: config.concurrency, callback: handle });
      return async () => {
        msgs.stop();
        await nc.close();
      };
    },
  };
}

async function bull(): Promise<{ go(): Promise<Stop> }> {
  const processor = async (job: Job): Promise<unknown> => {
    counter.runs++;
    counter.onRun?.();
    switch (job.name) {
      case "flaky":
        if (job.attemptsMade < 2) throw new Error("transient");
        return 1;
      case "step": {
        if (typeof job.data.prev === "number") return job.data.prev + 1;
        const values = Object.values(await job.getChildrenValues()) as number[];
        return values.reduce((a, b) => a + b, 0) + 1;
      }
      case "join": {
        const values = Object.values(await job.getChildrenValues()) as number[];
        return values.reduce((a, b) => a + b, 0);
      }
      default:
        return 1;
    }
  };
  const worker = new BullWorker(BULL_QUEUE, processor, { connection: redisConnection(config.redisPort), concurrency: config.concurrency, autorun: false });
  await worker.waitUntilReady();
  return {
    async go() {
      void worker.run();
      return async () => {
        await worker.close();
      };
    },
  };
}

const system = config.system === "ours" ? await ours() : config.system === "raw" ? await raw() : await bull();
let stop: Stop | undefined;
/** CPU time is counted from here (reset when consuming starts and at each "cpu" request). */
let cpuFrom = process.cpuUsage();
process.on("message", (m: { type: string }) => {
  if (m.type === "go") {
    t0 = performance.now();
    system.go().then(
      (s) => {
        stop = s;
        if (config.heapEvery) sampleHeap(0);
        ops?.reset(); // set-up is not counted
        cpuFrom = process.cpuUsage();
        send({ type: "started" });
      },
      (err: Error) => send({ type: "error", message: err.stack ?? err.message }),
    );
  } else if (m.type === "heap") {
    for (let i = 0; i < 3; i++) gc?.();
    send({ type: "heap", heapUsed: process.memoryUsage().heapUsed });
  } else if (m.type === "cpu") {
    const used = process.cpuUsage(cpuFrom);
    cpuFrom = process.cpuUsage();
    send({ type: "cpu", us: used.user + used.system });
  } else if (m.type === "ops") {
    send({ type: "ops", ops: ops?.snapshot() ?? {} });
    ops?.reset();
  } else if (m.type === "stop") {
    const runs = counter.runs;
    (stop ?? (async () => {}))().then(
      () => {
        send({ type: "stopped", runs, ...(ops ? { ops: ops.snapshot() } : {}), ...(observed ? { observed: observed.counts() } : {}) });
        process.disconnect();
        setTimeout(() => process.exit(0), 100).unref();
      },
      (err: Error) => {
        send({ type: "stopped", runs, error: err.message });
        process.exit(1);
      },
    );
  }
});
send({ type: "ready" });
