// Embedded 3-node loopback cluster: ports, quorum, R3 stream, losing and restarting a follower.
// Reference: ebind-reference.md §1.6, §3.28, §6.4, §7 items 49–50; nats-2.9-notes.md §7.
import { existsSync } from "node:fs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type StreamInfo } from "@nats-io/jetstream";
import { afterAll, describe, expect, it } from "vitest";
import { EbindError } from "../../../src/task/errors.js";
import { startCluster, type NatsCluster } from "../../../src/embed/index.js";
import { describeNats, pidAlive } from "../../support/nats.js";

describe("embed: startCluster arguments", () => {
  it("rejects a size below 1", async () => {
    for (const size of [0, -1, 1.5]) {
      const err = await startCluster({ size }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EbindError);
      expect(err).toMatchObject({ code: "invalid_argument", message: "embed: cluster size must be >= 1" });
    }
  });
});

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms (last error: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeNats("embed: 3-node cluster", () => {
  let cluster: NatsCluster | undefined;
  const conns: NatsConnection[] = [];
  const pids = new Set<number>();
  let baseDir = "";

  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    await cluster?.stop();
    for (const pid of pids) expect(pidAlive(pid), `nats-server pid ${pid} leaked`).toBe(false);
    if (baseDir !== "") expect(existsSync(baseDir)).toBe(false);
  });

  it("starts promptly on 6 distinct ports and forms a quorum (§7 item 49)", async () => {
    const t0 = Date.now();
    cluster = await startCluster({ size: 3, name: "embedtest" });
    await cluster.waitReady(10_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    for (const n of cluster.nodes) pids.add(n.pid);
    baseDir = cluster.nodes[0]!.storeDir.replace(/\/node-0$/, "");
    expect(cluster.nodes.map((n) => n.serverName)).toEqual(["embedtest-0", "embedtest-1", "embedtest-2"]);
    expect(cluster.nodes.map((n) => n.storeDir)).toEqual([0, 1, 2].map((i) => `${baseDir}/node-${i}`));
    const ports = [...cluster.nodes.map((n) => n.port), ...cluster.clusterPorts];
    expect(ports).toHaveLength(6);
    expect(ports.every((p) => p > 0)).toBe(true);
    expect(new Set(ports).size).toBe(6);
    expect(new Set([...ports, ...cluster.nodes.map((n) => new URL(n.monitorUrl).port)].map(Number)).size).toBe(9);
    expect(cluster.url).toBe(cluster.urls.join(","));
  });

  it("an R3 stream has a leader and 2 replicas; survives a follower's loss; the follower comes back (§7 item 50)", async () => {
    const c = cluster!;
    const nc = await connect({ servers: [...c.urls] });
    conns.push(nc);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: "EMBED_R3", subjects: ["r3.>"], num_replicas: 3 });
    const info = await waitFor("R3 leader and 2 replicas", 10_000, async () => {
      const si = await jsm.streams.info("EMBED_R3");
      return si.cluster?.leader && si.cluster.replicas?.length === 2 ? si : undefined;
    });
    const leader = info.cluster!.leader!;
    const follower = c.nodes.findIndex((n) => n.serverName !== leader);
    const followerUrl = c.urls[follower];
    const seen = new Set<string>();

    await c.killNode(follower);
    expect(c.nodes[follower]!.running).toBe(false);
    for (const i of [1, 2]) {
      const ack = await js.publish("r3.degraded", `d${i}`, { msgID: `degraded-${i}`, timeout: 5000, retries: 5 });
      expect(ack.stream).toBe("EMBED_R3");
      seen.add(`d${i}`);
    }

    await c.restartNode(follower);
    pids.add(c.nodes[follower]!.pid);
    expect(c.urls[follower]).toBe(followerUrl);
    expect(c.nodes[follower]!.url).toBe(followerUrl);
    await c.waitNodeHealthy(follower, 15_000);

    // A client of only the restarted node can publish.
    const solo = await connect({ servers: followerUrl! });
    conns.push(solo);
    await jetstream(solo).publish("r3.after", "a1", { msgID: "after-1", timeout: 5000, retries: 5 });
    seen.add("a1");

    const back: StreamInfo = await waitFor("3 current replicas", 15_000, async () => {
      const si = await jsm.streams.info("EMBED_R3");
      const reps = si.cluster?.replicas ?? [];
      return si.cluster?.leader && reps.length === 2 && reps.every((r) => r.current) ? si : undefined;
    });
    expect(back.state.messages).toBeGreaterThanOrEqual(3);
    expect(seen.size).toBe(3);
  });

  it("stop removes the owned baseDir and every process", async () => {
    await cluster!.stop();
    await cluster!.stop();
    for (const n of cluster!.nodes) expect(n.running).toBe(false);
    for (const pid of pids) expect(pidAlive(pid)).toBe(false);
    expect(existsSync(baseDir)).toBe(false);
  });
});
