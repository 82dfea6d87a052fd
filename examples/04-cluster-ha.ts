/**
 * 04 — high availability: a three-node cluster, streams with three replicas, one node lost.
 *
 *   npx tsx examples/04-cluster-ha.ts
 *
 * Starts three `nats-server` processes on loopback (`startCluster`, cluster "ebind-ha-demo"), waits
 * until they have elected a JetStream meta leader, connects to all of them and creates the task
 * streams with `replicas: 3`. Three round trips (`echo:msg-0`..`echo:msg-2`); then it stops one node
 * that is not the meta leader, and one more round trip still works:
 * `post-failover: echo:after-failover`. Always starts its own cluster (it ignores `NATS_URL`); needs
 * `nats-server` (there is no memory fallback for a cluster).
 * @module
 */
import { ensureStreams } from "../src/broker/index.js";
import { Client } from "../src/client/index.js";
import { findNatsServer, startCluster } from "../src/embed/index.js";
import { connectNats } from "../src/nats/index.js";
import { defineHandler, Registry } from "../src/task/index.js";
import { Worker } from "../src/worker/index.js";
import { recorder, runIfMain } from "./run-main.js";

const echo = defineHandler("main.Echo", async (_ctx, msg: string) => `echo:${msg}`);

/** The server name of the JetStream meta leader, as a node's monitoring endpoint (`/jsz`) reports it. */
async function metaLeader(monitorUrl: string): Promise<string | undefined> {
  const res = await fetch(`${monitorUrl}/jsz`);
  const body = (await res.json()) as { meta_cluster?: { leader?: string } };
  return body.meta_cluster?.leader;
}

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);
  if (findNatsServer() === undefined) {
    say("04-cluster-ha needs nats-server (on PATH, or NATS_SERVER_BIN): install it to run this example");
    return lines;
  }

  const cluster = await startCluster({ size: 3, name: "ebind-ha-demo" });
  try {
    await cluster.waitReady(15_000); // a meta leader that sees all three: needed before R3 streams
    say(`cluster ready: ${cluster.urls.join(" ")}`);
    const broker = await connectNats({ servers: [...cluster.urls] }); // fails over to the other nodes
    await ensureStreams(broker, { replicas: 3 });
    const registry = new Registry();
    registry.register(echo);
    const worker = await Worker.start(broker, registry, { pullExpiresMs: 1_000 });
    const client = await Client.create(broker);
    try {
      for (let i = 0; i < 3; i++) {
        const future = await client.enqueue(echo, `msg-${i}`);
        say(`round trip ${i}: ${await future.result({ timeoutMs: 10_000 })}`);
      }

      const leader = await metaLeader(cluster.nodes[0]!.monitorUrl);
      const victim = cluster.nodes.findIndex((n) => n.serverName !== leader);
      say(`stopping ${cluster.nodes[victim]!.serverName} (${cluster.urls[victim]}); the meta leader ${leader} stays`);
      await cluster.stopNode(victim);

      const future = await client.enqueue(echo, "after-failover");
      say(`post-failover: ${await future.result({ timeoutMs: 30_000 })}`);
    } finally {
      await client.close();
      await worker.close();
      await broker.close();
    }
  } finally {
    await cluster.stop();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
