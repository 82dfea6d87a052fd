/**
 * A restarted nats-server: a worker and a client keep going, and tasks published before, during and
 * after the restart all complete.
 */
import { expect, it } from "vitest";
import { connectNats } from "../../../src/nats/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { useQueueEnv } from "../../support/queue.js";
import { slow, square } from "../../support/handlers/common.js";

describeNats("task queue: server restart", () => {
  const node = useNatsNode();
  const env = useQueueEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });

  it("tasks enqueued before and after a server restart all resolve", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(square);
    registry.register(slow);
    const worker = await startWorker({ concurrency: 8, ackWaitMs: 2000 });
    const running = await Promise.all(Array.from({ length: 40 }, (_, i) => client.enqueue(slow, 300, `r${i}`)));
    const before = await Promise.all(Array.from({ length: 50 }, (_, i) => client.enqueue(square, i)));
    expect(worker.active).toBeGreaterThan(0); // the kill lands while handlers run
    await node().kill("SIGKILL");
    await node().restart();
    const after = await Promise.all(Array.from({ length: 50 }, (_, i) => client.enqueue(square, 50 + i)));
    const results = await Promise.all([...before, ...after].map((f) => f.result({ timeoutMs: 30_000 })));
    expect(results.map((r) => r.square)).toEqual(Array.from({ length: 100 }, (_, i) => i * i));
    const slowResults = await Promise.all(running.map((f) => f.result({ timeoutMs: 30_000 })));
    expect(slowResults.map((r) => r.tag)).toEqual(Array.from({ length: 40 }, (_, i) => `r${i}`));
  });

  it("closing a broker while its server is down closes the connection (no reconnect timer keeps the process alive)", async () => {
    const broker = await connectNats({ servers: node().url });
    await node().kill("SIGKILL");
    try {
      await broker.close();
      expect(broker.connection.isClosed()).toBe(true);
    } finally {
      await node().restart();
    }
  });
});
