/**
 * A workflow worker in a child process, for tests that kill processes: a {@link Worker} running DAG
 * steps plus a scheduler campaigning for the sweep with the KV lease elector.
 *
 * Env: `NATS_URL`, `WORKER_ID`, `WORKFLOW_WORKER_OPTIONS` (JSON: `concurrency`, `ackWaitMs`,
 * `leaseMs`, `sweepCheckIntervalMs`, `sweepIntervalMs`, `strandedAfterMs`; all optional).
 *
 * Prints on stdout, one per line:
 * - `ready <workerId>` once the worker consumes and the scheduler runs;
 * - `ran <stepId> <workerId>` when a step's handler starts, `end <stepId> <workerId>` when it returned;
 * - `leader <workerId>` / `follower <workerId>` when its elector gains / loses the lease;
 * - `log <level> <message> <fields JSON>` for the engine's warnings and errors;
 * - `stopped <workerId>` after a clean shutdown on SIGTERM (then exits 0).
 */
import { connectNats } from "../../src/nats/index.js";
import { Registry } from "../../src/task/index.js";
import { Worker, type Middleware } from "../../src/worker/index.js";
import { KvLeaderElector, Workflow } from "../../src/workflow/index.js";
import type { Logger, LogFields } from "../../src/broker/index.js";
import { chaosJoin, chaosLeaf, chaosSeed, chaosSlowLeaf } from "./handlers/chaos.js";

interface Options {
  concurrency?: number;
  ackWaitMs?: number;
  leaseMs?: number;
  sweepCheckIntervalMs?: number;
  sweepIntervalMs?: number;
  strandedAfterMs?: number;
}

const url = process.env.NATS_URL;
if (!url) throw new Error("NATS_URL is required");
const workerId = process.env.WORKER_ID;
if (!workerId) throw new Error("WORKER_ID is required");
const options = JSON.parse(process.env.WORKFLOW_WORKER_OPTIONS ?? "{}") as Options;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const logLine = (level: string) => (message: string, fields?: LogFields) => print(`log ${level} ${message} ${JSON.stringify(fields ?? {})}`);
const logger: Logger = { debug: () => {}, info: () => {}, warn: logLine("warn"), error: logLine("error") };

const broker = await connectNats({ servers: url });
const workflow = await Workflow.create(broker, { logger });
const registry = new Registry();
for (const h of [chaosSeed, chaosLeaf, chaosSlowLeaf, chaosJoin]) registry.register(h);

const announce: Middleware = (next) => async (ctx) => {
  const stepId = ctx.task.stepId;
  if (stepId) print(`ran ${stepId} ${ctx.workerId}`);
  const result = await next(ctx);
  if (stepId) print(`end ${stepId} ${ctx.workerId}`);
  return result;
};

const worker = await Worker.start(broker, registry, {
  workerId,
  concurrency: options.concurrency ?? 4,
  ackWaitMs: options.ackWaitMs ?? 2000,
  pullExpiresMs: 1000,
  stepHook: workflow.stepHook,
  middleware: [workflow.middleware, announce],
  logger,
});
const elector = new KvLeaderElector(broker, { id: workerId, leaseMs: options.leaseMs ?? 1500, logger });
const scheduler = await workflow.startScheduler({
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
  print(`${leading ? "leader" : "follower"} ${workerId}`);
}, 50);

print(`ready ${worker.id}`);

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  clearInterval(watchLeadership);
  void (async () => {
    await scheduler.stop();
    await worker.close();
    await broker.close();
    print(`stopped ${workerId}`);
    process.exit(0);
  })().catch((err: unknown) => {
    process.stderr.write(`workflow worker ${workerId}: shutdown failed: ${String(err)}\n`);
    process.exit(1);
  });
});
