/**
 * Memory backend specifics the contract suite does not cover: memory stays bounded (acked,
 * terminated and expired messages and old dedupe ids are released), close() ends pulls and watches
 * and is idempotent, and no timer is left behind.
 */
import { describe, expect, it } from "vitest";
import { ManualClock, type Delivery } from "../../../src/broker/index.js";
import { memoryBroker } from "../../../src/memory/index.js";

const data = new TextEncoder().encode("x");

async function setup() {
  const clock = new ManualClock();
  const broker = memoryBroker({ clock });
  await broker.ensureStream({ name: "W", subjects: ["W.>"], retention: "workqueue", maxAgeMs: 0, replicas: 1, duplicateWindowMs: 60_000 });
  await broker.ensureStream({ name: "L", subjects: ["L.>"], retention: "limits", maxAgeMs: 10_000, replicas: 1 });
  await broker.ensureConsumer("W", { durable: "w", filterSubject: "W.>", ackWaitMs: 1000, maxDeliver: -1 });
  return { clock, broker };
}

async function drain(broker: ReturnType<typeof memoryBroker>, clock: ManualClock, max: number) {
  const out: Delivery[] = [];
  const p = (async () => {
    for await (const d of broker.pull("W", "w", { max, expiresMs: 1000 })) out.push(d);
  })();
  await clock.advance(0);
  await p;
  return out;
}

describe("memory broker: memory stays bounded", () => {
  it("acked and terminated messages, expired messages and old dedupe ids are released", async () => {
    const { clock, broker } = await setup();
    for (let i = 0; i < 1000; i++) await broker.publish(`W.t`, data, { msgId: `id-${i}` });
    for (let i = 0; i < 500; i++) await broker.publish(`L.e`, data, { msgId: `e-${i}` });
    expect(broker.stats()).toMatchObject({ messages: 1500, dedupeIds: 1500, pending: 0 });

    const got = await drain(broker, clock, 1000);
    expect(broker.stats()).toMatchObject({ messages: 1500, pending: 1000 });
    got.forEach((d, i) => (i % 2 === 0 ? d.ack() : d.term()));
    expect(broker.stats()).toMatchObject({ messages: 500, pending: 0, waitingPulls: 0, consumerTimers: 0 });

    await clock.advance(10_000); // the limits stream's max age; its dedupe window is min(2 min, max age)
    expect(broker.stats()).toMatchObject({ messages: 0, dedupeIds: 1000 });
    await clock.advance(50_000); // past the work queue's 60 s duplicate window
    expect(broker.stats()).toMatchObject({ messages: 0, dedupeIds: 0, pending: 0 });
    expect(clock.pendingTimers).toBe(0);
    await broker.close();
  });

  it("pending deliveries of expired, deleted and purged messages are released", async () => {
    const { clock, broker } = await setup();
    for (let i = 0; i < 10; i++) await broker.publish("W.t", data);
    await drain(broker, clock, 10);
    expect(broker.stats().pending).toBe(10);
    await broker.deleteMessage("W", 1);
    expect(broker.stats()).toMatchObject({ messages: 9, pending: 9 });
    expect(await broker.purgeStream("W")).toBe(9);
    expect(broker.stats()).toMatchObject({ messages: 0, pending: 0 });
    await broker.close();
  });

  it("KV keeps at most `history` entries per key", async () => {
    const { broker } = await setup();
    const kv = await broker.kv("b", { history: 3 });
    for (let i = 0; i < 100; i++) await kv.put("k", data);
    await kv.put("other", data);
    expect(broker.stats().kvEntries).toBe(4);
    await broker.close();
  });

  it("a waiting pull sets one timer and clears it when it ends", async () => {
    const { clock, broker } = await setup();
    const p = (async () => {
      const out: Delivery[] = [];
      for await (const d of broker.pull("W", "w", { max: 5, expiresMs: 1500 })) out.push(d);
      return out;
    })();
    await clock.advance(0);
    expect(broker.stats().waitingPulls).toBe(1);
    expect(clock.pendingTimers).toBe(1); // the expiry
    await broker.publish("W.t", data); // delivered; its ack wait arms the consumer's wake-up
    await clock.advance(0);
    expect(clock.pendingTimers).toBe(2);
    await clock.advance(1500);
    const got = await p;
    expect(got.map((d) => d.deliveryCount)).toEqual([1, 2]); // redelivered at the ack wait, inside the pull
    expect(broker.stats()).toMatchObject({ waitingPulls: 0, consumerTimers: 0 });
    expect(clock.pendingTimers).toBe(0);
    await broker.close();
  });
});

describe("memory broker: close", () => {
  it("ends pulls and watches, is idempotent, and refuses later calls with closed", async () => {
    const { clock, broker } = await setup();
    const kv = await broker.kv("b");
    const pull = (async () => {
      const out: unknown[] = [];
      for await (const d of broker.pull("W", "w", { max: 5, expiresMs: 60_000 })) out.push(d);
      return out;
    })();
    const watch = (async () => {
      const out: unknown[] = [];
      for await (const e of kv.watch()) out.push(e);
      return out;
    })();
    await clock.advance(0);
    await broker.close();
    await broker.close();
    expect(await pull).toEqual([]);
    expect(await watch).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    await expect(broker.publish("W.t", data)).rejects.toMatchObject({ code: "closed" });
    await expect(kv.get("k")).rejects.toMatchObject({ code: "closed" });
  });

  it("maxPayloadBytes is configurable", async () => {
    const broker = memoryBroker({ maxPayloadBytes: 4 });
    await broker.ensureStream({ name: "S", subjects: ["S.>"], retention: "limits", maxAgeMs: 0, replicas: 1 });
    await expect(broker.publish("S.x", new Uint8Array(5))).rejects.toMatchObject({ code: "payload_too_large" });
    expect((await broker.publish("S.x", new Uint8Array(4))).seq).toBe(1);
    await broker.close();
  });
});
