/**
 * A connection the user owns and closes under the engine (NatsBroker.fromConnection): outstanding
 * futures fail with `closed` instead of waiting forever, and the pull loops stop instead of retrying
 * a connection that will never come back.
 */
import { expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import { ensureStreams } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { NatsBroker } from "../../../src/nats/index.js";
import { defineHandler, Registry } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { recordingLogger } from "../../support/logger.js";

describeNats("a user-owned connection closed under the engine", () => {
  const node = useNatsNode();

  it("fails outstanding futures with closed and stops the worker's pulls", async () => {
    const nc = await connect({ servers: node().url });
    const broker = await NatsBroker.fromConnection(nc);
    await ensureStreams(broker);
    const registry = new Registry();
    const never = defineHandler("test.never", async (ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    });
    registry.register(never);
    const logger = recordingLogger();
    const worker = await Worker.start(broker, registry, { logger, shutdownGraceMs: 200 });
    const client = await Client.create(broker, { logger: recordingLogger() });
    const future = await client.enqueue(never);
    const result = future.result();
    result.catch(() => undefined);
    await nc.close();
    await expect(result).rejects.toMatchObject({ code: "closed" });
    await expect(client.enqueue(never)).rejects.toMatchObject({ code: "closed" });
    // The worker's loops ended: it reports that once per consumer instead of a retry every few seconds.
    const ended = (): number => logger.lines.filter(([, m]) => m.includes("connection is closed")).length;
    for (let i = 0; i < 100 && ended() < 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect(ended()).toBeGreaterThanOrEqual(1);
    await worker.close().catch(() => undefined); // the running handler is aborted at the grace period
    await client.close();
    await broker.close();
  });

  it("a close with publishes in flight reports each as the stream saw it (owned and user connections)", async () => {
    for (const owned of [true, false]) {
      const nc = await connect({ servers: node().url });
      const broker = await NatsBroker.fromConnection(nc, { ownsConnection: owned });
      await ensureStreams(broker);
      const before = (await broker.streamState("EBIND_TASKS"))?.messages ?? 0;
      const client = await Client.create(broker, { logger: recordingLogger() });
      const noop = defineHandler("test.noop", async () => 1);
      const outcomes = Array.from({ length: 2000 }, () => client.enqueueAsync(noop).then(() => "ok", (e: { code?: string }) => e.code ?? "error"));
      await new Promise((r) => setImmediate(r));
      await broker.close();
      const settled = await Promise.all(outcomes);
      const ok = settled.filter((o) => o === "ok").length;
      const check = await NatsBroker.fromConnection(await connect({ servers: node().url }), { ownsConnection: true });
      const stored = ((await check.streamState("EBIND_TASKS"))?.messages ?? 0) - before;
      await check.close();
      if (!owned) await nc.close();
      expect({ owned, ok }).toEqual({ owned, ok: stored });
    }
  });
});
