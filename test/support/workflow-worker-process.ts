/**
 * A workflow worker in a child process, for tests that kill processes: a {@link Worker} running DAG
 * steps plus a scheduler campaigning for the sweep with the KV lease elector.
 *
 * Env: `NATS_URL`, `WORKER_ID`, `WORKFLOW_WORKER_OPTIONS` (JSON: `concurrency`, `ackWaitMs`,
 * `leaseMs`, `sweepCheckIntervalMs`, `sweepIntervalMs`, `strandedAfterMs`, `replicas` (of the
 * workflow's stream and bucket, default 1), `role` (`both` (default): a worker and a scheduler;
 * `worker`: no scheduler; `scheduler`: no worker); all optional).
 *
 * Prints on stdout, one per line:
 * - `ready <workerId>` once the worker consumes and the scheduler runs (those of its role);
 * - `ran <stepId> <workerId> <dagId>` when a step's handler starts, `end <stepId> <workerId> <dagId>`
 *   when it returned;
 * - `leader <workerId> <epochMs>` / `follower <workerId> <epochMs>` when its elector gains / loses the
 *   lease (checked every 50 ms; the time is when this process noticed);
 * - `readiness <true|false> <epochMs>` when the worker's `ready` changes (checked every 10 ms; the
 *   first line, after `ready`, gives its state then);
 * - `active <n> <epochMs>` when the number of handlers running changes (checked every 100 ms);
 * - `log <level> <message> <fields JSON>` for the engine's warnings and errors;
 * - `stopped <workerId>` after a clean shutdown on SIGTERM (then exits 0).
 */
import { connectNats } from "../../src/nats/index.js";
import { Registry } from "../../src/task/index.js";
import { Worker, type Middleware } from "../../src/worker/index.js";
import { KvLeaderElector, Workflow } from "../../src/workflow/index.js";
import { printLogger } from "./print-logger.js";
import { chaosJoin, chaosLeaf, chaosSeed, chaosSlowLeaf } from "./handlers/chaos.js";
import { FAULT_HANDLERS } from "./handlers/faults.js";

interface Options {
  concurrency?: number;
  ackWaitMs?: number;
  leaseMs?: number;
  sweepCheckIntervalMs?: number;
  sweepIntervalMs?: number;
  strandedAfterMs?: number;
  replicas?: number;
  role?: "both" | "worker" | "scheduler";
}

const url = process.env.NATS_URL;
if (!url) throw new Error("NATS_URL is required");
const workerId = process.env.WORKER_ID;
if (!workerId) throw new Error("WORKER_ID is required");
const options = JSON.parse(process.env.WORKFLOW_WORKER_OPTIONS ?? "{}") as Options;
const role = options.role ?? "both";
if (!["both", "worker", "scheduler"].includes(role)) throw new Error(`role must be both, worker or scheduler, got ${JSON.stringify(role)}`);

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const logger = printLogger(print);

const broker = await connectNats({ servers: url });
const workflow = await Workflow.create(broker, { logger, replicas: options.replicas ?? 1 });
const registry = new Registry();
for (const h of [chaosSeed, chaosLeaf, chaosSlowLeaf, chaosJoin, ...FAULT_HANDLERS]) registry.register(h);

const announce: Middleware = (next) => async (ctx) => {
  const stepId = ctx.task.stepId;
  const dagId = ctx.task.dagId ?? "";
  if (stepId) print(`ran ${stepId} ${ctx.workerId} ${dagId}`);
  const result = await next(ctx);
  if (stepId) print(`end ${stepId} ${ctx.workerId} ${dagId}`);
  return result;
};

const worker =
  role === "scheduler"
    ? undefined
    : await Worker.start(broker, registry, {
        workerId,
        concurrency: options.concurrency ?? 4,
        ackWaitMs: options.ackWaitMs ?? 2000,
        pullExpiresMs: 1000,
        stepHook: workflow.stepHook,
        middleware: [workflow.middleware, announce],
        logger,
      });
const elector = new KvLeaderElector(broker, { id: workerId, leaseMs: options.leaseMs ?? 1500, logger });
const scheduler =
  role === "worker"
    ? undefined
    : await workflow.startScheduler({
        elector,
        pullExpiresMs: 1000,
        sweepCheckIntervalMs: options.sweepCheckIntervalMs ?? 250,
        sweepIntervalMs: options.sweepIntervalMs ?? 2000,
        ...(options.strandedAfterMs === undefined ? {} : { strandedAfterMs: options.strandedAfterMs }),
      });

let leading = false;
const watchLeadership = setInterval(() => {
  if (elector.isLeader() === leading) return;
  leading = !leading;
  print(`${leading ? "leader" : "follower"} ${workerId} ${Date.now()}`);
}, 50);

print(`ready ${worker?.id ?? workerId}`);

let consuming: boolean | undefined;
const watchReadiness = setInterval(() => {
  if (worker === undefined || worker.ready === consuming) return;
  consuming = worker.ready;
  print(`readiness ${String(consuming)} ${Date.now()}`);
}, 10);
let running: number | undefined;
const watchActive = setInterval(() => {
  if (worker === undefined || worker.active === running) return;
  running = worker.active;
  print(`active ${running} ${Date.now()}`);
}, 100);

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  clearInterval(watchLeadership);
  clearInterval(watchReadiness);
  clearInterval(watchActive);
  void (async () => {
    await scheduler?.stop();
    await worker?.close();
    await broker.close();
    print(`stopped ${workerId}`);
    process.exit(0);
  })().catch((err: unknown) => {
    process.stderr.write(`workflow worker ${workerId}: shutdown failed: ${String(err)}\n`);
    process.exit(1);
  });
});
