/**
 * A worker in a child process, for tests that kill processes. Env: `NATS_URL`, `WORKER_ID`,
 * `WORKER_OPTIONS` (JSON of WorkerOptions). Prints `ready <workerId>` on stdout once consuming, and
 * `ran <tag>` when `test.slow` starts; exits on SIGTERM after draining.
 */
import { silentLogger } from "../../src/broker/index.js";
import { connectNats } from "../../src/nats/index.js";
import { Registry } from "../../src/task/index.js";
import { Worker, type Middleware } from "../../src/worker/index.js";
import { add, echo, slow, square, whoAmI } from "./handlers/common.js";

const url = process.env.NATS_URL;
if (!url) throw new Error("NATS_URL is required");
const broker = await connectNats({ servers: url });
const registry = new Registry();
for (const h of [echo, add, slow, whoAmI, square]) registry.register(h);
const announce: Middleware = (next) => async (ctx) => {
  if (ctx.task.name === "test.slow") process.stdout.write(`ran ${JSON.stringify(ctx.task.payload)}\n`);
  return next(ctx);
};
const options = JSON.parse(process.env.WORKER_OPTIONS ?? "{}") as Record<string, unknown>;
const worker = await Worker.start(broker, registry, {
  ...options,
  workerId: process.env.WORKER_ID,
  middleware: [announce],
  logger: silentLogger,
});
process.stdout.write(`ready ${worker.id}\n`);
const stop = async (): Promise<void> => {
  await worker.close();
  await broker.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
