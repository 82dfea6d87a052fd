/**
 * Scenario 1 — fire-and-forget throughput: N no-op tasks enqueued (1,000 publishes in flight), then
 * processed by one worker process with concurrency 64 (started after the last enqueue).
 * Raw floor: js.publish to a WorkQueue file stream + pull consume({max_messages: 64}) + ack each.
 */
import { Child, alternate, envInt, isMain, now, pool, withTimeout, type Figures, type System } from "./lib/harness.js";
import { startServers } from "./lib/servers.js";
import { prepare, producer } from "./lib/systems.js";
import { goEnsureStreams, goProduce, startGoWorker } from "./lib/go-peer.js";

const N = envInt("BENCH_N1", 20_000);
const INFLIGHT = 1000;
const CONCURRENCY = 64;

/** The Go peer: `ebgo produce` publishes, then a quiet `ebgo worker` (started after) processes. */
async function onceGo(): Promise<Figures> {
  const servers = await startServers();
  try {
    await goEnsureStreams(servers.natsUrl);
    const enqueueMs = await goProduce(servers.natsUrl, N, INFLIGHT, false);
    const worker = await startGoWorker(servers.natsUrl, CONCURRENCY, N);
    try {
      const processMs = await worker.done();
      return { enqueue_per_s: (N / enqueueMs) * 1000, process_per_s: (N / processMs) * 1000, total_per_s: (N / (enqueueMs + processMs)) * 1000, total_ms: enqueueMs + processMs };
    } finally {
      await worker.stop();
    }
  } finally {
    await servers.stop();
  }
}

async function once(system: System): Promise<Figures> {
  if (system === "go") return onceGo();
  const servers = await startServers();
  try {
    await prepare(system, servers.natsUrl);
    const child = await Child.spawn({ system, natsUrl: servers.natsUrl, redisPort: servers.redisPort, concurrency: CONCURRENCY, target: N });
    const prod = await producer(system, servers.natsUrl, servers.redisPort);
    try {
      const t0 = now();
      await withTimeout(pool(N, INFLIGHT, () => prod.enqueueAsync("noop")), 120_000, "enqueue");
      const enqueueMs = now() - t0;
      const t1 = now();
      await child.go();
      await child.done();
      const processMs = now() - t1;
      return {
        enqueue_per_s: (N / enqueueMs) * 1000,
        process_per_s: (N / processMs) * 1000,
        total_per_s: (N / (enqueueMs + processMs)) * 1000,
        total_ms: enqueueMs + processMs,
      };
    } finally {
      await prod.close();
      await child.stop();
    }
  } finally {
    await servers.stop();
  }
}

export function run() {
  return alternate("1-throughput", ["ours", "raw", "bullmq", "go"], once, {
    notes: {
      ours: `${N} enqueueAsync (1000 in flight), Worker concurrency 64 in a child process`,
      raw: "js.publish (1000 in flight, no msgID) to WorkQueue file stream; child: pull consume max_messages 64, ack each",
      bullmq: "queue.add (1000 in flight), removeOnComplete/removeOnFail true; child: Worker concurrency 64",
      go: "Go peer ebgo (nats.go, Go ebind's wire and calling pattern): 1000 goroutines each publishing synchronously with the task id as msg id; then a worker process: pull consume, 64 handlers at once, ack each",
    },
  });
}

if (isMain(import.meta.url)) await run();
