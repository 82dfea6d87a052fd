/**
 * Scenario 2 — request/response throughput: N no-op tasks enqueued (1,000 publishes in flight) and
 * every result awaited; the worker process (concurrency 64) runs throughout.
 * Raw floor: js.publish the task with a reply subject; the worker js.publishes the response to a
 * limits file stream then acks; the producer consumes its durable filtered consumer and acks.
 * BullMQ: results through QueueEvents `completed` (one listener, jobId → resolver).
 */
import { Child, alternate, envInt, isMain, now, pool, withTimeout, type Figures, type System } from "./lib/harness.js";
import { startServers } from "./lib/servers.js";
import { prepare, producer, type Kind } from "./lib/systems.js";
import { goEnsureStreams, goProduce, startGoWorker } from "./lib/go-peer.js";

const CONCURRENCY = 64;
const INFLIGHT = 1000;

/** Enqueue n tasks of `kind`, await every result; shared with scenario 4. */
export async function requestResponse(system: System, n: number, kind: Kind): Promise<{ ms: number; handlerRuns: number }> {
  const servers = await startServers();
  try {
    await prepare(system, servers.natsUrl);
    const child = await Child.spawn({ system, natsUrl: servers.natsUrl, redisPort: servers.redisPort, concurrency: CONCURRENCY });
    const prod = await producer(system, servers.natsUrl, servers.redisPort);
    let ms = NaN;
    try {
      await child.go();
      // warm the result path (consumer / QueueEvents creation) outside the timing
      await (await prod.enqueueAwait("noop")).result;
      const results: Promise<unknown>[] = [];
      const t0 = now();
      await withTimeout(
        (async () => {
          await pool(n, INFLIGHT, async () => {
            results.push((await prod.enqueueAwait(kind)).result);
          });
          await Promise.all(results);
        })(),
        150_000,
        `${system} ${kind} request/response`,
      );
      ms = now() - t0;
    } finally {
      await prod.close();
    }
    const { runs } = await child.stop();
    return { ms, handlerRuns: runs - 1 }; // less the warm-up task
  } finally {
    await servers.stop();
  }
}

const N = envInt("BENCH_N2", 20_000);

/** The Go peer: a quiet `ebgo worker` runs throughout; `ebgo produce --await` enqueues and awaits. */
async function onceGo(): Promise<Figures> {
  const servers = await startServers();
  try {
    await goEnsureStreams(servers.natsUrl);
    const worker = await startGoWorker(servers.natsUrl, CONCURRENCY);
    try {
      await goProduce(servers.natsUrl, 1, 1, true); // warm-up, outside the timing
      const ms = await goProduce(servers.natsUrl, N, INFLIGHT, true);
      return { tasks_per_s: (N / ms) * 1000, total_ms: ms };
    } finally {
      await worker.stop();
    }
  } finally {
    await servers.stop();
  }
}

async function once(system: System): Promise<Figures> {
  if (system === "go") return onceGo();
  const { ms } = await requestResponse(system, N, "noop");
  return { tasks_per_s: (N / ms) * 1000, total_ms: ms };
}

export function run() {
  return alternate("2-reqresp", ["ours", "raw", "bullmq", "go"], once, {
    notes: {
      ours: `${N} client.enqueue (1000 publishes in flight) then await every future.result(); Worker concurrency 64 in a child`,
      raw: "floor: js.publish task (reply subject in body) → worker js.publish response to RAW_RESP file stream, then ack → producer durable pull consumer, ack each",
      bullmq: "queue.add with producer-chosen jobId, results via one QueueEvents 'completed' listener; removeOnComplete true",
      go: "Go peer ebgo (nats.go, Go ebind's wire and calling pattern): 1000 goroutines, each Enqueue (synchronous publish, msg id) then waits for its response from the client's durable response consumer; worker: 64 handlers at once, response publish then ack",
    },
  });
}

if (isMain(import.meta.url)) await run();
