/**
 * Contract: KV — create, compare-and-set update, put, get, delete (tombstones), keys, revisions as
 * one per-bucket sequence, history, and watch (last / all / updates) with DEL entries
 * (nats-2.9-notes.md §4, item 9).
 * @module
 */
import { describe, expect, it } from "vitest";
import type { KvEntry } from "../port.js";
import { bytes, text, useHarness, type BackendFactory } from "./harness.js";

const view = (e: KvEntry): string => `${e.operation} ${e.key}=${text(e.value)}@${e.revision}`;

/** KV: what `KvBucket` promises. */
export function describeKvContract(name: string, make: BackendFactory): void {
  describe(`${name}: kv`, () => {
    const h = useHarness(make);
    const bucket = (history?: number) => h().broker.kv(`B_${h().id}`, history === undefined ? {} : { history });

    it("create returns a revision; creating an existing key is a conflict and leaves it unchanged", async () => {
      const kv = await bucket();
      const rev = await kv.create("wf.1", bytes("v1"));
      expect(rev).toBe(1);
      await expect(kv.create("wf.1", bytes("v2"))).rejects.toMatchObject({ code: "conflict" });
      const e = await kv.get("wf.1");
      expect(e).toMatchObject({ key: "wf.1", revision: 1, operation: "PUT" });
      expect(text(e!.value)).toBe("v1");
      expect(e!.createdAt).toBeInstanceOf(Date);
      expect(await kv.get("wf.none")).toBeNull();
    });

    it("a value larger than the server's max payload is refused with payload_too_large, and nothing is written", async () => {
      const kv = await bucket();
      const big = new Uint8Array(h().broker.maxPayloadBytes + 1);
      await expect(kv.put("big", big)).rejects.toMatchObject({ code: "payload_too_large" });
      await expect(kv.create("big", big)).rejects.toMatchObject({ code: "payload_too_large" });
      expect(await kv.get("big")).toBeNull();
    });

    it("update with the expected revision writes; a stale revision or a missing key is a conflict that never overwrites", async () => {
      const kv = await bucket();
      const r1 = await kv.create("state", bytes("a"));
      const r2 = await kv.update("state", bytes("b"), r1);
      expect(r2).toBeGreaterThan(r1);
      await expect(kv.update("state", bytes("stale"), r1)).rejects.toMatchObject({ code: "conflict" });
      const e = await kv.get("state");
      expect(text(e!.value)).toBe("b");
      expect(e!.revision).toBe(r2);
      await expect(kv.update("missing", bytes("x"), 5)).rejects.toMatchObject({ code: "conflict" });
      await expect(kv.update("missing", bytes("x"), 0)).rejects.toMatchObject({ code: "invalid_argument" });
      expect(await kv.get("missing")).toBeNull();
    });

    it("revisions are one sequence per bucket, increasing across keys; put writes unconditionally", async () => {
      const kv = await bucket();
      expect(await kv.put("a", bytes("1"))).toBe(1);
      expect(await kv.put("b", bytes("1"))).toBe(2);
      expect(await kv.put("a", bytes("2"))).toBe(3);
      expect(await kv.create("c", bytes("1"))).toBe(4);
      expect((await kv.get("a"))?.revision).toBe(3);
    });

    it("delete leaves the key absent for get and keys; create after delete succeeds; a CAS delete checks the revision", async () => {
      const kv = await bucket();
      const r1 = await kv.create("k.one", bytes("1"));
      await kv.create("k.two", bytes("2"));
      await kv.put("other", bytes("3"));
      await kv.delete("k.one");
      expect(await kv.get("k.one")).toBeNull();
      expect((await kv.keys()).sort()).toEqual(["k.two", "other"]);
      expect((await kv.keys("k.>")).sort()).toEqual(["k.two"]);
      const r = await kv.create("k.one", bytes("again"));
      expect(r).toBeGreaterThan(r1);
      expect(text((await kv.get("k.one"))!.value)).toBe("again");
      await expect(kv.delete("k.one", { expectedRevision: r1 })).rejects.toMatchObject({ code: "conflict" });
      expect(text((await kv.get("k.one"))!.value)).toBe("again");
      await kv.delete("k.one", { expectedRevision: r });
      expect(await kv.get("k.one")).toBeNull();
    });

    it("an update at a tombstone's revision revives the key", async () => {
      const kv = await bucket(5);
      await kv.create("t", bytes("1"));
      await kv.delete("t");
      const reader = h().watch((signal) => kv.watch({ key: "t", include: "last", signal }));
      const [tomb] = await reader.next(1);
      await reader.stop();
      expect(tomb?.operation).toBe("DEL");
      expect(tomb!.value.length).toBe(0);
      const r = await kv.update("t", bytes("2"), tomb!.revision);
      expect((await kv.get("t"))?.revision).toBe(r);
    });

    it("watch (last) delivers each key's latest entry, tombstones included, in revision order, then updates and deletes", async () => {
      const kv = await bucket(5);
      await kv.put("w.a", bytes("a1"));
      await kv.put("w.b", bytes("b1"));
      await kv.put("w.a", bytes("a2"));
      await kv.put("x.z", bytes("ignored"));
      await kv.put("w.c", bytes("c1"));
      await kv.delete("w.c");
      const reader = h().watch((signal) => kv.watch({ key: "w.>", signal }));
      expect((await reader.next(3)).map(view)).toEqual(["PUT w.b=b1@2", "PUT w.a=a2@3", "DEL w.c=@6"]);
      await kv.put("w.b", bytes("b2"));
      await kv.put("x.z", bytes("still ignored"));
      await kv.delete("w.a");
      expect((await reader.next(5)).slice(3).map(view)).toEqual(["PUT w.b=b2@7", "DEL w.a=@9"]);
      await reader.stop();
      expect(reader.entries).toHaveLength(5);
    });

    it("watch (all) delivers every kept revision in order; history bounds what is kept", async () => {
      const kv = await bucket(2);
      await kv.put("h.a", bytes("1"));
      await kv.put("h.a", bytes("2"));
      await kv.put("h.b", bytes("x"));
      await kv.put("h.a", bytes("3")); // revision 1 falls out of a history of 2
      const reader = h().watch((signal) => kv.watch({ key: "h.>", include: "all", signal }));
      expect((await reader.next(3)).map(view)).toEqual(["PUT h.a=2@2", "PUT h.b=x@3", "PUT h.a=3@4"]);
      await kv.delete("h.b");
      expect((await reader.next(4))[3]).toMatchObject({ key: "h.b", operation: "DEL", revision: 5 });
      await reader.stop();
    });

    it("watch (updates) delivers only changes made after it started; aborting ends it", async () => {
      const kv = await bucket();
      await kv.put("u.old", bytes("before"));
      const reader = h().watch((signal) => kv.watch({ key: "u.>", include: "updates", signal }));
      await h().wait(500); // let the watch start on a real server
      await kv.put("u.new", bytes("after"));
      await kv.delete("u.old");
      expect((await reader.next(2)).map((e) => `${e.operation} ${e.key}`)).toEqual(["PUT u.new", "DEL u.old"]);
      await reader.stop();
      await kv.put("u.late", bytes("unseen"));
      expect(reader.entries).toHaveLength(2);
    });

    it("watch onCaughtUp fires after the initial part was consumed: aborting there reads the bucket's current state", async () => {
      const kv = await bucket();
      const scan = async (key: string): Promise<string[]> => {
        const ac = new AbortController();
        const seen: string[] = [];
        let caughtUpAfter = -1;
        for await (const e of kv.watch({ key, signal: ac.signal, onCaughtUp: () => { caughtUpAfter = seen.length; ac.abort(); } })) {
          seen.push(view(e));
        }
        expect(caughtUpAfter).toBe(seen.length); // nothing after the initial part was yielded
        return seen;
      };
      expect(await scan("c.>")).toEqual([]); // empty: fires at once, the loop ends with no entry
      await kv.put("c.a", bytes("1"));
      await kv.put("c.b", bytes("2"));
      await kv.put("c.a", bytes("3"));
      await kv.put("d.z", bytes("other"));
      await kv.delete("c.b");
      expect(await scan("c.>")).toEqual(["PUT c.a=3@3", "DEL c.b=@5"]);
      let fired = false;
      const ac = new AbortController();
      const iter = kv.watch({ key: "c.>", include: "updates", signal: ac.signal, onCaughtUp: () => (fired = true) })[Symbol.asyncIterator]();
      const first = iter.next();
      await h().wait(300);
      expect(fired).toBe(true); // updates only: nothing to catch up on
      ac.abort();
      await first;
    });

    it("watch onReady fires once the watch is established: a change written right after it is delivered", async () => {
      const kv = await bucket();
      let ready!: () => void;
      const established = new Promise<void>((resolve) => (ready = resolve));
      let calls = 0;
      const reader = h().watch((signal) =>
        kv.watch({
          key: "r.>",
          include: "updates",
          signal,
          onReady: () => {
            calls++;
            ready();
          },
        }),
      );
      await established; // no sleep: onReady alone says the next write cannot be missed
      await kv.put("r.first", bytes("x"));
      expect((await reader.next(1)).map((e) => e.key)).toEqual(["r.first"]);
      await reader.stop();
      expect(calls).toBe(1);
    });
  });
}
