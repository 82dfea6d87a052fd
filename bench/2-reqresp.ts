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

async function once(system: System): Promise<Figures> {
  const { ms } = await requestResponse(system, N, "noop");
  return { tasks_per_s: (N / ms) * 1000, total_ms: ms };
}

export function run() {
  return alternate("2-reqresp", ["ours", "raw", "bullmq"], once, {
    notes: {
      ours: `${N} client.enqueue (1000 publishes in flight) then await every future.result(); Worker concurrency 64 in a child`,
      raw: "floor: js.publish task (reply subject in body) → worker js.publish response to RAW_RESP file stream, then ack → producer durable pull consumer, ack each",
      bullmq: "queue.add with producer-chosen jobId, results via one QueueEvents 'completed' listener; removeOnComplete true",
    },
  });
}

if (isMain(import.meta.url)) await run();
