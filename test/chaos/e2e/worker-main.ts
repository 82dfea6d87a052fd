/**
 * One worker process of the cluster e2e suite (reference §6.17 harness): a Worker with the e2e
 * handlers, the workflow's step hook and middleware, and a scheduler campaigning for the sweep with
 * the KV lease elector — all on one connection to ONE node (`NATS_URL`), so killing that node moves
 * a real connection.
 *
 * Env: `NATS_URL` (one node's URL), `WORKER_ID`, `E2E_CLAIMS` (comma-separated, may be empty),
 * `E2E_OPTIONS` (JSON of {@link E2eWorkerOptions}).
 *
 * Prints on stdout, one per line (fields separated by single spaces; `-` for none):
 * - `ready <workerId> <server>` once the worker consumes and the scheduler runs;
 * - `server <name>` whenever the connection (re)connects, naming the node it reached;
 * - `conn <type>` for each connection status change (disconnect, reconnect, …);
 * - `ran <dagId> <stepId> <taskName> <attempt> <taskId>` when a handler starts (plain tasks: `- -`);
 * - `recorded <dagId> <stepId> <done|failed>` when the step hook wrote a step's terminal record
 *   (not for an outcome the hook found superseded);
 * - `consuming` / `not-consuming` when the worker's readiness (`worker.ready`: connected and every
 *   pull served) turns true / false, checked every 50 ms;
 * - `leader` / `follower` when the elector gains / loses the lease;
 * - `log <level> <message> <fields JSON>` for the engine's warnings and errors;
 * - `stopped` after a clean shutdown on SIGTERM (then exits 0).
 * @module
 */
import { connectNats } from "../../../src/nats/index.js";
import { alias, Registry } from "../../../src/task/index.js";
import { Worker, type Middleware, type StepHook } from "../../../src/worker/index.js";
import { KvLeaderElector, Workflow } from "../../../src/workflow/index.js";
import { printLogger } from "../../support/print-logger.js";
import { ALL_HANDLERS, eAdd, LEGACY_ADD } from "./handlers.js";
import { GATE_BUCKET, gateOpen } from "./gates.js";
import type { E2eWorkerOptions } from "./processes.js";

const url = process.env.NATS_URL;
if (!url) throw new Error("NATS_URL is required");
const workerId = process.env.WORKER_ID;
if (!workerId) throw new Error("WORKER_ID is required");
const claims = (process.env.E2E_CLAIMS ?? "").split(",").filter((c) => c !== "");
const options = JSON.parse(process.env.E2E_OPTIONS ?? "{}") as Required<E2eWorkerOptions>;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const logger = printLogger(print);

const broker = await connectNats({ servers: url, name: `e2e-${workerId}` });
const nc = broker.connection;
print(`server ${nc.info?.server_name ?? "?"}`);
void (async () => {
  for await (const s of nc.status()) {
    print(`conn ${s.type}`);
    if (s.type === "reconnect") print(`server ${nc.info?.server_name ?? "?"}`);
  }
})();

const workflow = await Workflow.create(broker, { replicas: 3, logger });
gateOpen.use(await broker.kv(GATE_BUCKET, { replicas: 3 }));
const registry = new Registry();
registry.register(eAdd, alias(LEGACY_ADD));
for (const h of ALL_HANDLERS) registry.register(h);

const announce: Middleware = (next) => async (ctx) => {
  print(`ran ${ctx.task.dagId || "-"} ${ctx.task.stepId || "-"} ${ctx.task.name} ${ctx.attempt} ${ctx.task.id}`);
  return next(ctx);
};

/** The workflow's hook, printing each terminal record it wrote. */
const inner = workflow.stepHook;
const stepHook: StepHook = {
  onStepStart: inner.onStepStart?.bind(inner),
  async onStepDone(task, result) {
    const settled = await inner.onStepDone(task, result);
    if (settled === "recorded") print(`recorded ${task.dagId} ${task.stepId} done`);
    return settled;
  },
  async onStepFailed(task, error) {
    const settled = await inner.onStepFailed(task, error);
    if (settled === "recorded") print(`recorded ${task.dagId} ${task.stepId} failed`);
    return settled;
  },
};

const worker = await Worker.start(broker, registry, {
  workerId,
  claims,
  concurrency: options.concurrency,
  ackWaitMs: options.ackWaitMs,
  shutdownGraceMs: options.shutdownGraceMs,
  claimRefreshIntervalMs: options.claimRefreshIntervalMs,
  claimRetryDelayMs: options.claimRetryDelayMs,
  pullExpiresMs: 1000,
  stepHook,
  middleware: [workflow.middleware, announce],
  logger,
});
const elector = new KvLeaderElector(broker, { id: workerId, leaseMs: options.leaseMs, logger });
const scheduler = await workflow.startScheduler({
  elector,
  pullExpiresMs: 1000,
  sweepCheckIntervalMs: options.sweepCheckIntervalMs,
  sweepIntervalMs: options.sweepIntervalMs,
  strandedAfterMs: options.strandedAfterMs,
});

let leading = false;
let consuming = false;
const watchStates = setInterval(() => {
  if (worker.ready !== consuming) {
    consuming = !consuming;
    print(consuming ? "consuming" : "not-consuming");
  }
  if (elector.isLeader() !== leading) {
    leading = !leading;
    print(leading ? "leader" : "follower");
  }
}, 50);

print(`ready ${worker.id} ${nc.info?.server_name ?? "?"}`);

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  clearInterval(watchStates);
  void (async () => {
    await scheduler.stop();
    await worker.close();
    workflow.close();
    await broker.close();
    print("stopped");
    process.exit(0);
  })().catch((err: unknown) => {
    process.stderr.write(`e2e worker ${workerId}: shutdown failed: ${String(err)}\n`);
    process.exit(1);
  });
});
