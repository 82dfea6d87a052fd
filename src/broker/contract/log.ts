/**
 * Contract: a stream as a sequenced log (the DLQ): get by sequence, delete, purge (all or by
 * subject), list by walking sequences (nats-2.9-notes.md §5).
 * @module
 */
import { describe, expect, it } from "vitest";
import type { StoredMessage } from "../port.js";
import { text, useHarness, type BackendFactory } from "./harness.js";

/** The log: what `getMessage`, `deleteMessage` and `purgeStream` promise. */
export function describeLogContract(name: string, make: BackendFactory): void {
  describe(`${name}: log`, () => {
    const h = useHarness(make);

    async function list(stream: string): Promise<StoredMessage[]> {
      const state = await h().broker.streamState(stream);
      const out: StoredMessage[] = [];
      if (!state || state.messages === 0) return out;
      for (let seq = state.firstSeq; seq <= state.lastSeq; seq++) {
        const msg = await h().broker.getMessage(stream, seq);
        if (msg) out.push(msg);
      }
      return out;
    }

    it("getMessage returns subject, data, time and headers by sequence; a missing sequence is null", async () => {
      const { name: s, root } = await h().stream("_G", { retention: "limits" });
      const before = h().clock?.now() ?? Date.now();
      await h().publish(`${root}.h1`, "dead", "m-1");
      await h().publish(`${root}.h2`, "letter");
      const m1 = await h().broker.getMessage(s, 1);
      expect(m1).toMatchObject({ seq: 1, subject: `${root}.h1` });
      expect(text(m1!.data)).toBe("dead");
      expect(m1!.headers.get("Nats-Msg-Id")).toBe("m-1");
      expect(m1!.time.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(m1!.time.getTime()).toBeLessThanOrEqual((h().clock?.now() ?? Date.now()) + 1000);
      expect(text((await h().broker.getMessage(s, 2))!.data)).toBe("letter");
      expect(await h().broker.getMessage(s, 3)).toBeNull();
      expect(await h().broker.getMessage(s, 99)).toBeNull();
    });

    it("deleteMessage removes one message (then getMessage is null); deleting it again is false", async () => {
      const { name: s, root } = await h().stream("_X", { retention: "limits" });
      for (const t of ["a", "b", "c"]) await h().publish(`${root}.x`, t);
      expect(await h().broker.deleteMessage(s, 2)).toBe(true);
      expect(await h().broker.getMessage(s, 2)).toBeNull();
      expect(await h().broker.deleteMessage(s, 2)).toBe(false);
      expect(await h().broker.deleteMessage(s, 42)).toBe(false);
      expect(await h().broker.streamState(s)).toMatchObject({ messages: 2, firstSeq: 1, lastSeq: 3 });
      expect((await list(s)).map((m) => text(m.data))).toEqual(["a", "c"]);
    });

    it("purgeStream by subject removes only that subject and returns the count; without a subject, everything", async () => {
      const { name: s, root } = await h().stream("_PG", { retention: "limits" });
      await h().publish(`${root}.one`, "1");
      await h().publish(`${root}.two`, "2");
      await h().publish(`${root}.one`, "3");
      await h().publish(`${root}.two.deep`, "4");
      expect(await h().broker.purgeStream(s, { subject: `${root}.one` })).toBe(2);
      expect((await list(s)).map((m) => text(m.data))).toEqual(["2", "4"]);
      expect(await h().broker.purgeStream(s)).toBe(2);
      expect(await h().broker.streamState(s)).toMatchObject({ messages: 0, lastSeq: 4 });
      // Sequences keep counting after a purge.
      expect((await h().publish(`${root}.one`, "5")).seq).toBe(5);
    });

    it("a deleted pending message is not redelivered to the work-queue consumer", async () => {
      const { name: s, root } = await h().stream("_PD", { retention: "workqueue" });
      await h().consumer(s, "w", { filterSubject: `${root}.>`, ackWaitMs: 1000 });
      const { seq } = await h().publish(`${root}.t`, "x");
      const [d] = await h().take(s, "w", 1);
      expect(d?.streamSeq).toBe(seq);
      expect(await h().broker.deleteMessage(s, seq)).toBe(true);
      await h().wait(1200);
      expect(await h().take(s, "w", 1)).toEqual([]);
    });

    it("log operations on a missing stream fail with not_found", async () => {
      await expect(h().broker.getMessage(`${h().id}_NONE`, 1)).rejects.toMatchObject({ code: "not_found" });
      await expect(h().broker.purgeStream(`${h().id}_NONE`)).rejects.toMatchObject({ code: "not_found" });
    });
  });
}
