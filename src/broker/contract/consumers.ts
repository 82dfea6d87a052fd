/**
 * Contract: durable consumers — filters, work-queue consumer rules, deliver policy, load balancing
 * over concurrent pulls, pull ending (max, expiry, abort), missing and deleted consumers.
 * @module
 */
import { describe, expect, it } from "vitest";
import type { Delivery } from "../port.js";
import { text, useHarness, type BackendFactory } from "./harness.js";

/** Consumers: what `ensureConsumer`, `deleteConsumer` and `pull` promise. */
export function describeConsumerContract(name: string, make: BackendFactory): void {
  describe(`${name}: consumers`, () => {
    const h = useHarness(make);

    it("filters route TASKS.> and TASKS_TARGET.<x>.> to their own durables (notes §3)", async () => {
      const id = h().id;
      const { name: s } = await h().stream("_F", { retention: "workqueue", subjects: [`${id}.TASKS.>`, `${id}.TASKS_TARGET.>`] });
      await h().consumer(s, "workers", { filterSubject: `${id}.TASKS.>` });
      await h().consumer(s, "claim-x", { filterSubject: `${id}.TASKS_TARGET.x.>` });
      await h().publish(`${id}.TASKS.a`, "a");
      await h().publish(`${id}.TASKS_TARGET.x.a`, "x.a");
      await h().publish(`${id}.TASKS_TARGET.y.a`, "y.a");
      await h().publish(`${id}.TASKS.b.sub`, "b.sub");
      await h().publish(`${id}.TASKS_TARGET.x.b`, "x.b");
      const workers = await h().take(s, "workers", 10);
      const claimed = await h().take(s, "claim-x", 10);
      expect(workers.map((d) => text(d.data))).toEqual(["a", "b.sub"]);
      expect(claimed.map((d) => text(d.data))).toEqual(["x.a", "x.b"]);
      for (const d of [...workers, ...claimed]) d.ack();
      // Nobody claims target y: it waits in the stream.
      expect(await h().eventually(async () => (await h().broker.streamState(s))?.messages === 1)).toBe(true);
    });

    it("a work-queue stream refuses a consumer whose filter overlaps another's (NATS 10100) and accepts disjoint ones", async () => {
      const { name: s, root } = await h().stream("_O", { retention: "workqueue" });
      await h().consumer(s, "wide", { filterSubject: `${root}.a.>` });
      await expect(h().consumer(s, "narrow", { filterSubject: `${root}.a.x` })).rejects.toMatchObject({ code: "invalid_argument" });
      await expect(h().consumer(s, "same", { filterSubject: `${root}.a.>` })).rejects.toMatchObject({ code: "invalid_argument" });
      await h().consumer(s, "c-x", { filterSubject: `${root}.c.x` });
      await expect(h().consumer(s, "c-all", { filterSubject: `${root}.c.>` })).rejects.toMatchObject({ code: "invalid_argument" }); // wider after narrower too
      await h().consumer(s, "other", { filterSubject: `${root}.b.>` });
      await h().consumer(s, "wide", { filterSubject: `${root}.a.>`, ackWaitMs: 2000 }); // updating itself is fine
      expect((await h().broker.streamState(s))?.consumers).toBe(3);
    });

    // Found by test/fuzz/names.test.ts: the memory backend used to accept these.
    // (NUL too, on file storage, which ebind's streams use; these test streams are in memory.)
    it("durable names JetStream refuses are refused: '/', '\\', more than 255 bytes", async () => {
      const { name: s, root } = await h().stream("_DN", { retention: "limits" });
      for (const [i, durable] of ["a/b", "a\\b", "d".repeat(256), "é".repeat(128)].entries()) {
        await expect(h().consumer(s, durable, { filterSubject: `${root}.n${i}` })).rejects.toThrow();
      }
      await h().consumer(s, "d".repeat(255), { filterSubject: `${root}.ok` });
    });

    it("consumerSpec reads back what the server holds, and null for a missing durable", async () => {
      const { name: s, root } = await h().stream("_CS", { retention: "workqueue" });
      expect(await h().broker.consumerSpec(s, "nobody")).toBeNull();
      await h().consumer(s, "held", { filterSubject: `${root}.a.>`, ackWaitMs: 1500, maxDeliver: 4, maxAckPending: 77 });
      expect(await h().broker.consumerSpec(s, "held")).toMatchObject({
        durable: "held",
        filterSubject: `${root}.a.>`,
        ackWaitMs: 1500,
        maxDeliver: 4,
        maxAckPending: 77,
        deliverPolicy: "all",
      });
      await h().consumer(s, "held", { filterSubject: `${root}.a.>`, ackWaitMs: 2500, maxDeliver: -1, maxAckPending: 77 });
      expect(await h().broker.consumerSpec(s, "held")).toMatchObject({ ackWaitMs: 2500, maxDeliver: -1 });
      await expect(h().broker.consumerSpec(`${s}_MISSING`, "held")).rejects.toMatchObject({ code: "not_found" });
    });

    it("consumerState counts undelivered, outstanding, redelivered and waiting pulls; null for a missing durable", async (ctx) => {
      const broker = h().broker;
      if (broker.consumerState === undefined) return ctx.skip(); // an optional capability
      const read = broker.consumerState.bind(broker);
      const state = (durable: string) => read(s, durable);
      const { name: s, root } = await h().stream("_ST", { retention: "workqueue" });
      await h().consumer(s, "c", { filterSubject: `${root}.a.>`, ackWaitMs: 5000 });
      for (let i = 0; i < 3; i++) await h().publish(`${root}.a.x`, `m${i}`);
      await h().publish(`${root}.b`, "not for c");
      expect(await state("c")).toEqual({ pending: 3, ackPending: 0, redelivered: 0, waiting: 0 });
      const [first, second] = await h().take(s, "c", 2);
      expect(await state("c")).toEqual({ pending: 1, ackPending: 2, redelivered: 0, waiting: 0 });
      first!.nak();
      second!.ack();
      // The nak'ed one stays outstanding until it is redelivered (settles reach NATS a moment later).
      expect(await h().eventually(async () => (await state("c"))?.ackPending === 1)).toBe(true);
      const [again] = await h().take(s, "c", 1); // a redelivery comes before a new message
      expect(again!.deliveryCount).toBe(2);
      expect(await state("c")).toEqual({ pending: 1, ackPending: 1, redelivered: 1, waiting: 0 });
      again!.ack();
      const [last] = await h().take(s, "c", 1);
      last!.ack();
      expect(await h().eventually(async () => (await state("c"))?.ackPending === 0)).toBe(true);
      expect(await state("c")).toEqual({ pending: 0, ackPending: 0, redelivered: 0, waiting: 0 });
      // A pull waiting for messages is counted while it waits.
      const abort = new AbortController();
      const idle = (async () => {
        for await (const d of broker.pull(s, "c", { max: 1, expiresMs: 30_000, signal: abort.signal })) d.nak();
      })();
      try {
        expect(await h().eventually(async () => (await state("c"))?.waiting === 1)).toBe(true);
      } finally {
        abort.abort();
        if (h().clock) await h().clock!.advance(0);
        await idle;
      }
      expect(await state("nobody")).toBeNull();
      await expect(read(`${s}_MISSING`, "c")).rejects.toMatchObject({ code: "not_found" });
    });

    it("a work-queue stream refuses a second unfiltered consumer (NATS 10099)", async () => {
      const { name: s } = await h().stream("_U", { retention: "workqueue" });
      await h().consumer(s, "all", { filterSubject: "" });
      await expect(h().consumer(s, "all2", { filterSubject: "" })).rejects.toMatchObject({ code: "invalid_argument" });
      await expect(h().consumer(s, "some", { filterSubject: `${s}.x` })).rejects.toMatchObject({ code: "invalid_argument" });
    });

    it("a work-queue stream refuses deliver policy new (NATS 10101)", async () => {
      const { name: s, root } = await h().stream("_WN", { retention: "workqueue" });
      await expect(h().consumer(s, "late", { filterSubject: `${root}.>`, deliverPolicy: "new" })).rejects.toMatchObject({ code: "invalid_argument" });
    });

    it("a filter outside the stream's subjects is refused (NATS 10093); a consumer on a missing stream is not_found", async () => {
      const { name: s } = await h().stream("_X", { retention: "limits" });
      await expect(h().consumer(s, "bad", { filterSubject: `${h().id}_ELSEWHERE.>` })).rejects.toMatchObject({ code: "invalid_argument" });
      await expect(h().consumer(`${s}_MISSING`, "c", { filterSubject: "" })).rejects.toMatchObject({ code: "not_found" });
    });

    it("a wildcard filter wider than one of the stream's subjects is accepted, as nats-server 2.9 does", async () => {
      const { name: s, root } = await h().stream("_W", { retention: "limits" });
      // The stream's subject is `<root>.>`; `*.…` patterns containing it fit, a literal wider one does not.
      await expect(h().consumer(s, "wide", { filterSubject: ">" })).resolves.toBeUndefined();
      await expect(h().consumer(s, "root", { filterSubject: root })).rejects.toMatchObject({ code: "invalid_argument" });
    });

    it("deliverPolicy new skips messages published before the consumer existed", async () => {
      const { name: s, root } = await h().stream("_N", { retention: "limits" });
      await h().publish(`${root}.e`, "before");
      await h().consumer(s, "late", { filterSubject: `${root}.>`, deliverPolicy: "new" });
      await h().consumer(s, "early", { filterSubject: `${root}.>` });
      await h().publish(`${root}.e`, "after");
      expect((await h().take(s, "late", 5)).map((d) => text(d.data))).toEqual(["after"]);
      expect((await h().take(s, "early", 2)).map((d) => text(d.data))).toEqual(["before", "after"]);
    });

    it("acks on a limits stream keep the message; another durable still gets it", async () => {
      const { name: s, root } = await h().stream("_K", { retention: "limits" });
      await h().consumer(s, "one", { filterSubject: `${root}.>` });
      await h().consumer(s, "two", { filterSubject: `${root}.>` });
      await h().publish(`${root}.e`, "shared");
      const [a] = await h().take(s, "one", 1);
      a!.ack();
      const [b] = await h().take(s, "two", 1);
      expect(text(b!.data)).toBe("shared");
      b!.term();
      await h().wait(200);
      expect((await h().broker.streamState(s))?.messages).toBe(1);
    });

    it("two concurrent pulls on one durable share its messages: each delivered once", async () => {
      const { name: s, root } = await h().stream("_LB", { retention: "workqueue" });
      await h().consumer(s, "shared", { filterSubject: `${root}.>`, ackWaitMs: 5000 });
      const got: Delivery[][] = [[], []];
      const pulls = got.map(async (into) => {
        for await (const d of h().broker.pull(s, "shared", { max: 15, expiresMs: 1500 })) {
          into.push(d);
          d.ack();
        }
      });
      await h().wait(100);
      for (let i = 0; i < 20; i++) await h().publish(`${root}.t`, `m${i}`);
      await h().wait(1500);
      await Promise.all(pulls);
      const seqs = [...got[0]!, ...got[1]!].map((d) => d.streamSeq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(got[0]!.length).toBeLessThanOrEqual(15);
      expect(got[1]!.length).toBeLessThanOrEqual(15);
      expect(await h().eventually(async () => (await h().broker.streamState(s))?.messages === 0)).toBe(true);
    });

    it("a pull ends as soon as max deliveries arrived, and early when its signal aborts", async () => {
      const { name: s, root } = await h().stream("_P", { retention: "workqueue" });
      await h().consumer(s, "p", { filterSubject: `${root}.>`, ackWaitMs: 5000 });
      for (let i = 0; i < 3; i++) await h().publish(`${root}.t`, `m${i}`);
      const two = await h().take(s, "p", 2, 30_000); // would hang for 30 s if max did not end it
      expect(two.map((d) => text(d.data))).toEqual(["m0", "m1"]);
      for (const d of two) d.ack();
      const [third] = await h().take(s, "p", 1);
      third!.ack();
      const abort = new AbortController();
      const started = Date.now();
      const idle = (async () => {
        const out: Delivery[] = [];
        for await (const d of h().broker.pull(s, "p", { max: 5, expiresMs: 30_000, signal: abort.signal })) out.push(d);
        return out;
      })();
      await h().wait(300);
      abort.abort();
      if (h().clock) await h().clock!.advance(0);
      expect(await idle).toEqual([]);
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it("pulling from a missing consumer fails with not_found; deleteConsumer reports whether it existed", async () => {
      const { name: s, root } = await h().stream("_D", { retention: "workqueue" });
      await h().consumer(s, "gone", { filterSubject: `${root}.>` });
      expect(await h().broker.deleteConsumer(s, "gone")).toBe(true);
      expect(await h().broker.deleteConsumer(s, "gone")).toBe(false);
      await expect(h().take(s, "gone", 1)).rejects.toMatchObject({ code: "not_found" });
      await expect(h().take(s, "never", 1)).rejects.toMatchObject({ code: "not_found" });
      expect((await h().broker.streamState(s))?.consumers).toBe(0);
    });
  });
}
