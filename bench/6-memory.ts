/**
 * Scenario 6 — memory (run with node --expose-gc).
 * 6a: heap per outstanding future: no worker runs; N futures enqueued and kept; heapUsed after gc,
 *     before and after, divided by N. ours: Future objects from client.enqueue; raw floor: a
 *     Map id → resolver + its promise (what a raw request/response needs); bullmq: the same map
 *     (BullMQ keeps nothing per outstanding job in the producer once add() resolved).
 * 6b: worker heap: one worker process (concurrency 64, --expose-gc) processes M fire-and-forget
 *     tasks enqueued while it runs; heapUsed after gc every M/4 tasks. "Flat" = growth from the
 *     first quarter to the end below 2 MiB.
 */
import { Child, alternate, envInt, gcHeap, isMain, pool, withTimeout, type Figures, type System } from "./lib/harness.js";
import { startServers } from "./lib/servers.js";
import { prepare, producer } from "./lib/systems.js";

const N = envInt("BENCH_N6_FUTURES", 50_000);
const M = envInt("BENCH_N6_TASKS", 200_000);

async function futures(system: System): Promise<Figures> {
  const servers = await startServers();
  try {
    await prepare(system, servers.natsUrl);
    const prod = await producer(system, servers.natsUrl, servers.redisPort);
    try {
      await prod.enqueueAwait("noop"); // create the result path (its result never comes: no worker)
      const h0 = gcHeap();
      const kept: Promise<unknown>[] = [];
      await withTimeout(
        pool(N, 1000, async () => {
          kept.push((await prod.enqueueAwait("noop")).result);
        }),
        120_000,
        "enqueue futures",
      );
      const h1 = gcHeap();
      if (kept.length !== N) throw new Error("lost futures");
      return { bytes_per_future: (h1 - h0) / N, heap_delta_mib: (h1 - h0) / 2 ** 20 };
    } finally {
      await prod.close();
    }
  } finally {
    await servers.stop();
  }
}

async function workerHeap(system: System): Promise<Figures> {
  const servers = await startServers();
  try {
    await prepare(system, servers.natsUrl);
    const quarter = M / 4;
    const child = await Child.spawn(
      { system, natsUrl: servers.natsUrl, redisPort: servers.redisPort, concurrency: 64, target: M, heapEvery: quarter },
      ["--expose-gc"],
    );
    const prod = await producer(system, servers.natsUrl, servers.redisPort);
    try {
      await child.go();
      await withTimeout(pool(M, 1000, () => prod.enqueueAsync("noop")), 170_000, "enqueue");
      const done = await child.done();
      const at = (runs: number): number => {
        const s = done.heap!.filter((h) => h.runs === runs);
        return s[s.length - 1]!.heapUsed / 2 ** 20;
      };
      const start = at(0);
      const q1 = at(quarter);
      const end = at(M);
      return { heap_start_mib: start, heap_q1_mib: q1, heap_end_mib: end, growth_q1_to_end_mib: end - q1, tasks_per_s: (M / done.ms) * 1000 };
    } finally {
      await prod.close();
      await child.stop();
    }
  } finally {
    await servers.stop();
  }
}

export async function run() {
  const a = await alternate("6a-memory-futures", ["ours", "raw", "bullmq"], futures, {
    notes: {
      ours: `${N} outstanding Futures (client.enqueue, no worker)`,
      raw: "floor: Map id → resolver + promise",
      bullmq: "the bench's Map jobId → resolver + promise (QueueEvents routing)",
    },
  });
  const b = await alternate("6b-memory-worker", ["ours", "raw", "bullmq"], workerHeap, {
    notes: { ours: `worker child heap after gc at 0, ${M / 4}, …, ${M} tasks` },
  });
  return [...a, ...b];
}

if (isMain(import.meta.url)) await run();
