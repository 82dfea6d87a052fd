/**
 * Scenario 3 — latency: N sequential enqueue-and-await round trips (after 50 unmeasured warm-ups);
 * worker process with concurrency 64. Raw floor: the same durable path as scenario 2 (task stream →
 * worker → response stream → producer), one at a time.
 */
import { Child, alternate, envInt, isMain, now, percentile, withTimeout, type Figures, type System } from "./lib/harness.js";
import { startServers } from "./lib/servers.js";
import { prepare, producer } from "./lib/systems.js";

const N = envInt("BENCH_N3", 2_000);
const WARMUP = 50;

async function once(system: System): Promise<Figures> {
  const servers = await startServers();
  try {
    await prepare(system, servers.natsUrl);
    const child = await Child.spawn({ system, natsUrl: servers.natsUrl, redisPort: servers.redisPort, concurrency: 64 });
    const prod = await producer(system, servers.natsUrl, servers.redisPort);
    try {
      await child.go();
      const lat: number[] = [];
      await withTimeout(
        (async () => {
          for (let i = 0; i < WARMUP + N; i++) {
            const t = now();
            await (await prod.enqueueAwait("noop")).result;
            if (i >= WARMUP) lat.push(now() - t);
          }
        })(),
        120_000,
        `${system} latency`,
      );
      return {
        p50_ms: percentile(lat, 50),
        p95_ms: percentile(lat, 95),
        p99_ms: percentile(lat, 99),
        mean_ms: lat.reduce((a, b) => a + b, 0) / lat.length,
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
  return alternate("3-latency", ["ours", "raw", "bullmq"], once, {
    notes: {
      ours: `${N} sequential await (await client.enqueue(noop)).result()`,
      raw: "floor: js.publish → worker consume, js.publish response to a stream, ack → producer pull consumer",
      bullmq: "queue.add then the QueueEvents 'completed' event for that jobId",
    },
  });
}

if (isMain(import.meta.url)) await run();
