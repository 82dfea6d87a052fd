/**
 * Contract: dedupe by message id — per stream, inside the duplicate window, reported as
 * `duplicate: true` with the original sequence, never delivered twice (nats-2.9-notes.md item 7).
 * @module
 */
import { describe, expect, it } from "vitest";
import { text, useHarness, type BackendFactory } from "./harness.js";

/** Dedupe: what `publish` with a `msgId` promises. */
export function describeDedupeContract(name: string, make: BackendFactory): void {
  describe(`${name}: dedupe`, () => {
    const h = useHarness(make);

    it("a duplicate message id inside the window is reported as a duplicate of the original and not delivered twice", async () => {
      const { name: s, root } = await h().stream("_DD", { retention: "workqueue" });
      await h().consumer(s, "w", { filterSubject: `${root}.>`, ackWaitMs: 5000 });
      expect(await h().publish(`${root}.t`, "first", "id-1")).toEqual({ seq: 1, duplicate: false });
      expect(await h().publish(`${root}.t`, "second", "id-1")).toEqual({ seq: 1, duplicate: true });
      expect(await h().publish(`${root}.other`, "third", "id-1")).toEqual({ seq: 1, duplicate: true }); // another subject, same stream
      expect(await h().publish(`${root}.t`, "fresh", "id-2")).toEqual({ seq: 2, duplicate: false });
      const got = await h().take(s, "w", 5);
      expect(got.map((d) => text(d.data))).toEqual(["first", "fresh"]);
      expect(got.map((d) => d.msgId)).toEqual(["id-1", "id-2"]);
      expect((await h().broker.getMessage(s, 1))?.headers.get("Nats-Msg-Id")).toBe("id-1");
      for (const d of got) d.ack();
    });

    it("the id is still a duplicate after the original was acked and removed from the work queue", async () => {
      const { name: s, root } = await h().stream("_DA", { retention: "workqueue" });
      await h().consumer(s, "w", { filterSubject: `${root}.>` });
      await h().publish(`${root}.t`, "done", "task-1");
      const [d] = await h().take(s, "w", 1);
      d!.ack();
      expect(await h().eventually(async () => (await h().broker.streamState(s))?.messages === 0)).toBe(true);
      expect(await h().publish(`${root}.t`, "again", "task-1")).toEqual({ seq: 1, duplicate: true });
      expect(await h().take(s, "w", 1)).toEqual([]);
    });

    it("after the duplicate window the same id stores a new message", async () => {
      const { name: s, root } = await h().stream("_DW", { retention: "limits", duplicateWindowMs: 1000 });
      await h().publish(`${root}.t`, "one", "k");
      await h().wait(400);
      expect(await h().publish(`${root}.t`, "dup", "k")).toEqual({ seq: 1, duplicate: true });
      await h().wait(1400);
      expect(await h().publish(`${root}.t`, "two", "k")).toEqual({ seq: 2, duplicate: false });
      expect((await h().broker.streamState(s))?.messages).toBe(2);
    });

    it("message ids are per stream", async () => {
      const a = await h().stream("_D1", { retention: "limits" });
      const b = await h().stream("_D2", { retention: "limits" });
      expect(await h().publish(`${a.root}.t`, "a", "same")).toEqual({ seq: 1, duplicate: false });
      expect(await h().publish(`${b.root}.t`, "b", "same")).toEqual({ seq: 1, duplicate: false });
    });
  });
}
