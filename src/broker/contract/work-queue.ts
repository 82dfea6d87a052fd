/**
 * Contract: work queues — ack, nak (with and without a delay), term, in-progress, redelivery after
 * the ack wait with a higher delivery count, max deliver, max ack pending, unfenced acks.
 * The nats-2.9-notes.md item each test pins is named in it.
 * @module
 */
import { describe, expect, it } from "vitest";
import { text, useHarness, type BackendFactory } from "./harness.js";

/** Work queues: what a `Delivery` promises on a work-queue stream. */
export function describeWorkQueueContract(name: string, make: BackendFactory): void {
  describe(`${name}: work queue`, () => {
    const h = useHarness(make);

    async function queue(spec: { ackWaitMs?: number; maxDeliver?: number; maxAckPending?: number } = {}) {
      const { name: s, root } = await h().stream("_WQ", { retention: "workqueue" });
      await h().consumer(s, "w", { filterSubject: `${root}.>`, ...spec });
      return { s, root };
    }

    it("ack removes the message from a work-queue stream", async () => {
      const { s, root } = await queue();
      await h().publish(`${root}.t`, "job");
      const [d] = await h().take(s, "w", 1);
      expect(d).toBeDefined();
      expect(text(d!.data)).toBe("job");
      expect(d!.subject).toBe(`${root}.t`);
      expect(d!.deliveryCount).toBe(1);
      d!.ack();
      d!.nak(); // settled once: ignored
      expect(await h().eventually(async () => (await h().broker.streamState(s))?.messages === 0)).toBe(true);
      const state = await h().broker.streamState(s);
      expect(state).toMatchObject({ messages: 0, lastSeq: 1, firstSeq: 2 });
      expect(await h().broker.getMessage(s, 1)).toBeNull();
      expect(await h().take(s, "w", 1)).toEqual([]);
    });

    it("headers published with a message reach its deliveries and its stored copy; a missing one reads undefined", async () => {
      const { s, root } = await queue();
      await h().broker.publish(`${root}.h`, new TextEncoder().encode("with headers"), { msgId: "h-1", headers: { "Ebind-Prior-Attempts": "2", "X-Other": "v" } });
      const [d] = await h().take(s, "w", 1);
      expect(d!.header("Ebind-Prior-Attempts")).toBe("2");
      expect(d!.header("X-Other")).toBe("v");
      expect(d!.header("X-Missing")).toBeUndefined();
      expect(d!.msgId).toBe("h-1");
      const stored = await h().broker.getMessage(s, d!.streamSeq);
      expect(stored?.headers.get("Ebind-Prior-Attempts")).toBe("2");
      d!.ack();
    });

    it("term removes the message and it is never redelivered (notes item 2: bare term)", async () => {
      const { s, root } = await queue();
      await h().publish(`${root}.t`, "poison");
      const [d] = await h().take(s, "w", 1);
      d!.term();
      await h().wait(1200); // past the ack wait
      expect(await h().take(s, "w", 1)).toEqual([]);
      expect((await h().broker.streamState(s))?.messages).toBe(0);
    });

    it("an unacked delivery is redelivered after the ack wait with a higher delivery count", async () => {
      const { s, root } = await queue({ ackWaitMs: 1000 });
      await h().publish(`${root}.t`, "slow");
      const [first] = await h().take(s, "w", 1);
      expect(first!.deliveryCount).toBe(1);
      await h().wait(1500);
      const [second] = await h().take(s, "w", 1);
      expect(second).toBeDefined();
      expect(second!.deliveryCount).toBe(2);
      expect(second!.streamSeq).toBe(first!.streamSeq);
      expect(text(second!.data)).toBe("slow");
      second!.ack();
      expect(await h().eventually(async () => (await h().broker.streamState(s))?.messages === 0)).toBe(true);
    });

    it("nak() without a delay redelivers at once with the delivery count incremented (notes item 5)", async () => {
      const { s, root } = await queue({ ackWaitMs: 5000 });
      await h().publish(`${root}.t`, "retry");
      const [first] = await h().take(s, "w", 1);
      first!.nak();
      const [second] = await h().take(s, "w", 1);
      expect(second?.deliveryCount).toBe(2);
      second!.ack();
    });

    it("nak(delay) is not redelivered before the delay, then is, with a higher delivery count (notes item 5)", async () => {
      const { s, root } = await queue({ ackWaitMs: 1000 });
      await h().publish(`${root}.t`, "later");
      const [first] = await h().take(s, "w", 1);
      first!.nak(2000);
      // The delay is longer than the ack wait: neither may bring it back early.
      expect(await h().take(s, "w", 1, 1000)).toEqual([]);
      const [again] = await h().take(s, "w", 1, 2000);
      expect(again).toBeDefined();
      expect(again!.deliveryCount).toBe(2);
      expect(again!.streamSeq).toBe(first!.streamSeq);
      again!.ack();
    });

    it("working() restarts the ack wait, so a long handler's message is not redelivered", async () => {
      const { s, root } = await queue({ ackWaitMs: 1500 });
      await h().publish(`${root}.t`, "long");
      const [d] = await h().take(s, "w", 1);
      await h().wait(700);
      d!.working(); // now due 1500 ms from here, not 800 ms
      expect(await h().take(s, "w", 1, 1000)).toEqual([]); // spans the original ack-wait deadline
      d!.ack();
      expect(await h().eventually(async () => (await h().broker.streamState(s))?.messages === 0)).toBe(true);
    });

    it("after maxDeliver deliveries a message is not redelivered and stays in the stream (notes item 6)", async () => {
      const { s, root } = await queue({ ackWaitMs: 1000, maxDeliver: 2 });
      const { seq } = await h().publish(`${root}.t`, "doomed");
      const [d1] = await h().take(s, "w", 1);
      expect(d1?.deliveryCount).toBe(1);
      d1!.nak();
      const [d2] = await h().take(s, "w", 1);
      expect(d2?.deliveryCount).toBe(2);
      d2!.nak();
      expect(await h().take(s, "w", 1, 1000)).toEqual([]);
      await h().wait(1200);
      expect(await h().take(s, "w", 1, 1000)).toEqual([]);
      expect((await h().broker.streamState(s))?.messages).toBe(1);
      expect(text((await h().broker.getMessage(s, seq))!.data)).toBe("doomed");
    });

    it("maxAckPending counts nak-delayed deliveries and holds back new messages (notes item 5)", async () => {
      const { s, root } = await queue({ ackWaitMs: 5000, maxAckPending: 1 });
      await h().publish(`${root}.t`, "a");
      await h().publish(`${root}.t`, "b");
      const [a] = await h().take(s, "w", 1);
      expect(text(a!.data)).toBe("a");
      a!.nak(2000);
      expect(await h().take(s, "w", 1, 1000)).toEqual([]); // "b" waits: the slot is held
      const [again] = await h().take(s, "w", 1, 2000);
      expect(text(again!.data)).toBe("a");
      expect(again!.deliveryCount).toBe(2);
      again!.ack();
      const [b] = await h().take(s, "w", 1);
      expect(text(b!.data)).toBe("b");
      b!.ack();
    });

    it("acks are not fenced: a late ack from an expired delivery acks the redelivered message (notes item 4)", async () => {
      const { s, root } = await queue({ ackWaitMs: 1000 });
      await h().publish(`${root}.t`, "twice");
      const [old] = await h().take(s, "w", 1);
      await h().wait(1300);
      const [current] = await h().take(s, "w", 1);
      expect(current?.deliveryCount).toBe(2);
      old!.ack();
      expect(await h().eventually(async () => (await h().broker.streamState(s))?.messages === 0)).toBe(true);
      await h().wait(1200);
      expect(await h().take(s, "w", 1, 1000)).toEqual([]);
    });
  });
}
