/**
 * Contract: streams — create/update, state, capture by subject, size limit, max-age expiry, order.
 * @module
 */
import { describe, expect, it } from "vitest";
import { bytes, text, useHarness, type BackendFactory } from "./harness.js";

/** Streams: what `ensureStream`, `streamState` and `publish` promise. */
export function describeStreamsContract(name: string, make: BackendFactory): void {
  describe(`${name}: streams`, () => {
    const h = useHarness(make);

    it("ensureStream is idempotent; streamState counts messages, sequences and consumers and reports replicas; a missing stream is null", async () => {
      const { name: s, root } = await h().stream("_S");
      await h().stream("_S");
      expect(await h().broker.streamState(`${s}_NOPE`)).toBeNull();
      const empty = await h().broker.streamState(s);
      expect(empty).toMatchObject({ name: s, messages: 0, lastSeq: 0, consumers: 0, replicas: 1 });
      expect((await h().publish(`${root}.a`, "one")).seq).toBe(1);
      expect((await h().publish(`${root}.b.c`, "two")).seq).toBe(2);
      await h().consumer(s, "d1", { filterSubject: `${root}.>` });
      const state = await h().broker.streamState(s);
      expect(state).toMatchObject({ name: s, messages: 2, firstSeq: 1, lastSeq: 2, consumers: 1 });
      expect(state?.bytes).toBeGreaterThan(0);
    });

    it("publishing to a subject no stream captures fails with not_found", async () => {
      await h().stream("_S");
      await expect(h().broker.publish(`${h().id}_NONE.x`, bytes("x"), { timeoutMs: 500 })).rejects.toMatchObject({ code: "not_found" });
    });

    // Found by test/fuzz/bad-input.test.ts: the memory backend used to ignore the header.
    it("a publish whose Nats-Expected-Stream names another stream fails and stores nothing", async () => {
      const { name: s, root } = await h().stream("_S");
      await expect(h().broker.publish(`${root}.x`, bytes("x"), { headers: { "Nats-Expected-Stream": `${s}_OTHER` } })).rejects.toThrow(/expected stream does not match/);
      await h().broker.publish(`${root}.y`, bytes("y"), { headers: { "Nats-Expected-Stream": s } });
      expect((await h().broker.streamState(s))?.messages).toBe(1);
    });

    it("a payload over maxPayloadBytes fails with payload_too_large and stores nothing", async () => {
      const { name: s, root } = await h().stream("_S");
      const big = new Uint8Array(h().broker.maxPayloadBytes + 1);
      await expect(h().broker.publish(`${root}.big`, big)).rejects.toMatchObject({ code: "payload_too_large" });
      expect((await h().broker.streamState(s))?.messages).toBe(0);
    });

    it("a stream whose subjects overlap another stream's is refused", async () => {
      const { root } = await h().stream("_A");
      await expect(
        h().broker.ensureStream({ name: `${h().id}_B`, subjects: [`${root}.x`], retention: "limits", maxAgeMs: 0, replicas: 1 }),
      ).rejects.toMatchObject({ code: "invalid_argument" });
    });

    it("a duplicate window longer than the max age is refused", async () => {
      await expect(h().stream("_W", { retention: "limits", maxAgeMs: 1000, duplicateWindowMs: 5000 })).rejects.toMatchObject({ code: "invalid_argument" });
    });

    it("a limits stream discards messages older than its max age", async () => {
      const { name: s, root } = await h().stream("_L", { retention: "limits", maxAgeMs: 1000 });
      await h().publish(`${root}.a`, "1");
      await h().publish(`${root}.b`, "2");
      expect((await h().broker.streamState(s))?.messages).toBe(2);
      await h().wait(400);
      expect((await h().broker.streamState(s))?.messages).toBe(2);
      await h().wait(1900);
      const state = await h().broker.streamState(s);
      expect(state?.messages).toBe(0);
      expect(state?.lastSeq).toBe(2);
      expect(await h().broker.getMessage(s, 1)).toBeNull();
    });

    it("a durable delivers a stream's messages in publish order (the event queue)", async () => {
      const { name: s, root } = await h().stream("_E", { retention: "workqueue" });
      await h().consumer(s, "events", { filterSubject: `${root}.>` });
      for (let i = 0; i < 10; i++) await h().publish(`${root}.ev.${i % 3}`, `e${i}`);
      const got = await h().take(s, "events", 10);
      expect(got.map((d) => text(d.data))).toEqual(Array.from({ length: 10 }, (_, i) => `e${i}`));
      expect(got.map((d) => d.streamSeq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect(got.every((d) => d.deliveryCount === 1)).toBe(true);
      for (const d of got) d.ack();
    });
  });
}
