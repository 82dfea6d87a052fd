/**
 * Behaviour that differs between nats-server 2.9 and newer servers (2.15.3 in CI's second leg), pinned on
 * whichever server runs the suite (`NATS_SERVER_BIN`): the NATS backend must behave the same on both.
 * The contract suite (test/contract/nats.test.ts) pins the rest; the differences are listed in the
 * README's "Tested servers".
 */
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { consumerSpec, ensureConsumer } from "../../../src/nats/consumers.js";
import { connectNats } from "../../../src/nats/connect.js";
import { describeNats, useNatsNode } from "../../support/nats.js";

describeNats("NATS backend on this server version", () => {
  const node = useNatsNode();
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    nc = await connect({ servers: node().url });
    jsm = await jetstreamManager(nc);
    process.stdout.write(`server-versions: nats-server ${nc.info?.version ?? "?"}\n`);
  });
  afterAll(async () => {
    await nc.close();
  });

  it("two processes creating one durable at once with different settings both succeed (2.10+ refuses a create over an existing durable: 10148)", async () => {
    await jsm.streams.add({ name: "SV_RACE", subjects: ["sv.race.>"], retention: "workqueue" });
    const spec = { durable: "w", filterSubject: "sv.race.a", maxDeliver: 5, deliverPolicy: "all" as const };
    for (let round = 0; round < 5; round++) {
      const durable = `w${round}`;
      // Both see no durable, then both create it: the second create meets the first's consumer.
      await Promise.all([
        ensureConsumer(jsm, "SV_RACE", { ...spec, durable, ackWaitMs: 10_000 }),
        ensureConsumer(jsm, "SV_RACE", { ...spec, durable, ackWaitMs: 20_000 }),
      ]);
      const held = await consumerSpec(jsm, "SV_RACE", durable);
      expect([10_000, 20_000]).toContain(held?.ackWaitMs);
      await jsm.consumers.delete("SV_RACE", durable);
    }
  });

  it("a filter outside the stream's subjects is refused on every server, by 2.9's rule (2.10+ no longer checks: 10093)", async () => {
    await jsm.streams.add({ name: "SV_FILTER", subjects: ["sv.f.a.>", "sv.f.b.*"] });
    const cases: Array<[filter: string, accepted: boolean]> = [
      ["sv.f.a.x", true],
      ["sv.f.a.>", true],
      ["sv.f.b.x", true],
      ["sv.f.>", true], // a wildcard filter wider than a stream subject: 2.9 accepts it
      [">", true],
      ["sv.f.c.x", false],
      ["sv.f.b.x.y", false],
      ["sv.f.*.c", false], // overlaps sv.f.b.* without either holding the other
      ["sv.g.>", false],
    ];
    const got: Array<[string, boolean]> = [];
    for (const [i, [filter]] of cases.entries()) {
      const spec = { durable: `f${i}`, filterSubject: filter, ackWaitMs: 30_000, maxDeliver: -1, deliverPolicy: "all" as const };
      const err = await ensureConsumer(jsm, "SV_FILTER", spec).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (err !== undefined) expect(err).toMatchObject({ code: "invalid_argument" });
      got.push([filter, err === undefined]);
      expect((await consumerSpec(jsm, "SV_FILTER", `f${i}`)) !== null).toBe(err === undefined);
    }
    expect(got).toEqual(cases);
    // The server's own answer to the same filters, sent past ensureConsumer: 2.9 refuses exactly the
    // ones above (so the rule is 2.9's), 2.10+ refuses none of them.
    const checksFilters = /^2\.9\./.test(nc.info?.version ?? "");
    for (const [i, [filter, accepted]] of cases.entries()) {
      const raw = await jsm.consumers.add("SV_FILTER", { durable_name: `raw${i}`, ack_policy: AckPolicy.Explicit, filter_subject: filter }).then(
        () => true,
        (e: unknown) => {
          expect(e).toMatchObject({ code: 10093 });
          return false;
        },
      );
      expect([filter, raw]).toEqual([filter, checksFilters ? accepted : true]);
    }
  });

  it("a KV watch's consumer is gone from the server once the watch has ended (2.15.3 answers API requests out of order)", async () => {
    const broker = await connectNats({ servers: node().url });
    try {
      const kv = await broker.kv("sv-watch");
      for (let i = 0; i < 10; i++) await kv.put(`k${i}`, new TextEncoder().encode("v"));
      for (let round = 0; round < 5; round++) {
        const stop = new AbortController();
        let seen = 0;
        for await (const _e of kv.watch({ signal: stop.signal, onCaughtUp: () => stop.abort() })) seen++;
        expect(seen).toBe(10);
        expect((await broker.streamState("KV_sv-watch"))?.consumers).toBe(0);
      }
    } finally {
      await broker.close();
    }
  });

  it("a pull on a durable another process deleted fails not_found (2.9 misses heartbeats, 2.15.3 answers 503 no responders)", async () => {
    const puller = await connectNats({ servers: node().url });
    const other = await connectNats({ servers: node().url });
    try {
      await puller.ensureStream({ name: "SV_GONE", subjects: ["sv.gone.>"], retention: "limits", storage: "file", maxAgeMs: 0, replicas: 1 });
      const spec = { durable: "g", filterSubject: "sv.gone.>", ackWaitMs: 30_000, maxDeliver: -1, deliverPolicy: "all" as const };
      for (const when of ["before the pull", "during the pull"] as const) {
        await puller.ensureConsumer("SV_GONE", spec);
        // A first pull leaves the durable's handle cached, as a worker's pulls do.
        for await (const _d of puller.pull("SV_GONE", "g", { max: 1, expiresMs: 1000 })) expect.unreachable();
        // The server can tell the pull about the deletion before it answers the delete
        // request, so the delete is awaited too: closing `other` under it would reject it.
        let deleted: Promise<void> = Promise.resolve();
        if (when === "before the pull") await other.deleteConsumer("SV_GONE", "g");
        else deleted = sleep(200).then(async () => void (await other.deleteConsumer("SV_GONE", "g")));
        const err = await (async () => {
          for await (const _d of puller.pull("SV_GONE", "g", { max: 1, expiresMs: 3000 })) expect.unreachable();
        })().then(
          () => undefined,
          (e: unknown) => e,
        );
        await deleted;
        expect(err, when).toMatchObject({ code: "not_found" });
      }
    } finally {
      await other.close();
      await puller.close();
    }
  });
});
