/**
 * `worker.ready` (issue 16): true while the worker takes tasks, false while it does not — when its
 * server is gone, and also while connected but not consuming (its durable gone) — and true again
 * once it consumes. Not merely "connected".
 */
import { expect, it } from "vitest";
import { DEFAULT_WORKER_DURABLE, TASK_STREAM } from "../../../src/broker/index.js";
import { connectNats } from "../../../src/nats/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { eventually, useQueueEnv } from "../../support/queue.js";
import { square } from "../../support/handlers/common.js";

describeNats("worker readiness", () => {
  const node = useNatsNode();
  const env = useQueueEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });

  it("is not ready while its server is down, and ready again once it consumes after the restart", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(square);
    const worker = await startWorker({ pullExpiresMs: 1000 });
    expect(worker.ready).toBe(true);
    await node().kill("SIGKILL");
    await eventually(() => !worker.ready, "not ready after the server died");
    await node().restart();
    await eventually(() => worker.ready, "ready after the restart", 20_000);
    const f = await client.enqueue(square, 7);
    expect((await f.result({ timeoutMs: 10_000 })).square).toBe(49);
    await worker.close();
    expect(worker.ready).toBe(false);
  });

  it("connected but its durable deleted under it: not ready until it consumes again", async () => {
    const { broker, registry, client, startWorker } = await env();
    registry.register(square);
    const worker = await startWorker({ pullExpiresMs: 1000 });
    expect(worker.ready).toBe(true);
    const seen: boolean[] = [];
    const sampler = setInterval(() => seen.push(worker.ready), 5);
    try {
      await broker.deleteConsumer(TASK_STREAM, DEFAULT_WORKER_DURABLE);
      // The loop notices on its next pull, re-creates the durable and consumes again.
      await eventually(() => seen.includes(false), "not ready once its pulls fail");
      await eventually(() => worker.ready, "ready after the durable was re-created");
      expect(broker.connected).toBe(true); // connected all along
      const f = await client.enqueue(square, 8);
      expect((await f.result({ timeoutMs: 10_000 })).square).toBe(64);
    } finally {
      clearInterval(sampler);
    }
  });
});
