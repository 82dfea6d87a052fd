/**
 * Several processes opening one new replicated KV bucket at once — every worker of a fresh
 * deployment opens the scheduler lease bucket (and the workflow's) as it starts. Found by the
 * cluster e2e suite (test/chaos/e2e): on a fresh 3-node cluster, three connections opening the same
 * new R3 bucket at once lost the race on 5 of 10 buckets, with `kv <bucket>: timeout` after 5 s
 * (the losers' creates went unanswered while the winner's stream formed) or `stream not found`,
 * on nats-server 2.9.10 and 2.15.3 alike; a worker process whose scheduler start hit it exited.
 */
import { expect, it } from "vitest";
import { startCluster, type NatsCluster } from "../../../src/embed/index.js";
import { connectNats, type NatsBroker } from "../../../src/nats/index.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { describeNats } from "../../support/nats.js";

/** Fresh buckets raced: each race lost about half the time without the fix. */
const BUCKETS = 8;

describeNats("nats: opening one new replicated KV bucket from several connections at once", () => {
  it(`3 connections open each of ${BUCKETS} new R3 buckets at once: every open succeeds and the bucket has 3 replicas`, async () => {
    let cluster: NatsCluster | undefined;
    const brokers: NatsBroker[] = [];
    try {
      cluster = await startCluster({ size: 3, name: "kvrace" });
      await cluster.waitReady(30_000);
      for (const url of cluster.urls) brokers.push(await connectNats({ servers: url }));
      const jsm = await jetstreamManager(brokers[0]!.connection);
      const failures: string[] = [];
      for (let b = 0; b < BUCKETS; b++) {
        const bucket = `race-${b}`;
        const opens = await Promise.allSettled(brokers.map((broker) => broker.kv(bucket, { history: 1, replicas: 3 })));
        for (const [i, r] of opens.entries()) if (r.status === "rejected") failures.push(`${bucket} from node ${i}: ${(r.reason as Error).message}`);
        if (opens.every((r) => r.status === "fulfilled")) expect((await jsm.streams.info(`KV_${bucket}`)).config.num_replicas).toBe(3);
      }
      expect(failures).toEqual([]);
      // Each connection reads what another wrote: one bucket, not several.
      const [a, b] = await Promise.all([brokers[0]!.kv("race-0"), brokers[2]!.kv("race-0")]);
      await a.put("k", new TextEncoder().encode("v"));
      expect(new TextDecoder().decode((await b.get("k"))!.value)).toBe("v");
    } finally {
      await Promise.all(brokers.map((b) => b.close()));
      await cluster?.stop();
    }
  }, 120_000);
});
