/**
 * Streams and infrastructure: reference §7 item 45, §2.2.
 */
import { jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { expect, it } from "vitest";
import { ensureStreams } from "../../../src/broker/index.js";
import { connectNats } from "../../../src/nats/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";

describeNats("streams", () => {
  const node = useNatsNode();

  it("ensureStreams creates the three streams with the reference's configuration, idempotently (§7.45)", async () => {
    const broker = await connectNats({ servers: node().url });
    const nc = await connect({ servers: node().url });
    try {
      await ensureStreams(broker);
      await ensureStreams(broker);
      const jsm = await jetstreamManager(nc);
      const tasks = await jsm.streams.info("EBIND_TASKS");
      expect(tasks.config.subjects).toEqual(["TASKS.>", "TASKS_TARGET.>"]);
      expect(tasks.config.retention).toBe(RetentionPolicy.Workqueue);
      expect(tasks.config.max_age).toBe(24 * 3600 * 1e9);
      expect(tasks.config.duplicate_window).toBe(5 * 60 * 1e9);
      expect(tasks.config.num_replicas).toBe(1);
      const resp = await jsm.streams.info("EBIND_RESP");
      expect(resp.config.subjects).toEqual(["RESP.>"]);
      expect(resp.config.retention).toBe(RetentionPolicy.Limits);
      expect(resp.config.max_age).toBe(3600 * 1e9);
      const dlq = await jsm.streams.info("EBIND_DLQ");
      expect(dlq.config.subjects).toEqual(["DLQ.>"]);
      expect(dlq.config.retention).toBe(RetentionPolicy.Limits);
      expect(dlq.config.max_age).toBe(7 * 24 * 3600 * 1e9);
      // Options update an existing stream.
      await ensureStreams(broker, { taskMaxAgeMs: 3600_000 });
      expect((await jsm.streams.info("EBIND_TASKS")).config.max_age).toBe(3600 * 1e9);
    } finally {
      await nc.close();
      await broker.close();
    }
  });

  it("bad stream options are refused naming the option", async () => {
    const broker = await connectNats({ servers: node().url });
    try {
      await expect(ensureStreams(broker, { replicas: 1.5 })).rejects.toThrow("streams.replicas must be an integer, got 1.5");
      await expect(ensureStreams(broker, { dlqMaxAgeMs: -1 })).rejects.toThrow("streams.dlqMaxAgeMs must be a number from 100 to 3153600000000 ms, got -1");
      await expect(ensureStreams(broker, { taskMaxAgeMs: 1e300 })).rejects.toThrow(/streams\.taskMaxAgeMs must be a number from 100/);
      await expect(ensureStreams(broker, { taskMaxAgeMs: 60_000 })).rejects.toThrow(/duplicateWindowMs \(300000\) must not exceed streams\.taskMaxAgeMs \(60000\)/);
    } finally {
      await broker.close();
    }
  });

  it("publishing where no stream listens fails with not_found and says why", async () => {
    const broker = await connectNats({ servers: node().url });
    try {
      await expect(broker.publish("NOWHERE.x", new Uint8Array([1]), { timeoutMs: 500 })).rejects.toMatchObject({ code: "not_found" });
    } finally {
      await broker.close();
    }
  });
});
