/**
 * The fault suite's cluster and producer side: a 3-node loopback cluster, the task streams and the
 * workflow's stream and bucket at 3 replicas, a producer (client + workflow handle) connected to
 * every node, phase timings, and deadline waits. Free of vitest (the soak uses it too).
 * @module
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureStreams, silentLogger } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { startCluster, type NatsCluster } from "../../../src/embed/index.js";
import { connectNats, type NatsBroker } from "../../../src/nats/index.js";
import { DAG_BUCKET, DAG_EVENTS_STREAM, SCHEDULER_DURABLE, Workflow } from "../../../src/workflow/index.js";
import type { KvBucket } from "../../../src/broker/index.js";

/** Replicas of every stream and bucket in the fault suite. */
export const REPLICAS = 3;

/** The producer side of a run: one connection to every node. */
export interface ChaosApp {
  readonly cluster: NatsCluster;
  readonly broker: NatsBroker;
  readonly workflow: Workflow;
  readonly client: Client;
  /** The DAG bucket (`ebind-dags`). */
  readonly kv: KvBucket;
  /** Closes the client, the workflow handle and the connection (not the cluster). */
  close(): Promise<void>;
}

/** Starts a 3-node cluster (store dirs under `baseDir` when given) and waits for its meta leader. */
export async function startChaosCluster(baseDir?: string): Promise<NatsCluster> {
  const cluster = await startCluster({ size: 3, name: "chaos", readyTimeoutMs: 30_000, ...(baseDir === undefined ? {} : { baseDir }) });
  try {
    await cluster.waitReady(30_000);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** Connects a producer to every node of `cluster` and creates the streams and the DAG bucket at {@link REPLICAS}. */
export async function openChaosApp(cluster: NatsCluster): Promise<ChaosApp> {
  const broker = await connectNats({ servers: [...cluster.urls], name: "chaos-producer" });
  try {
    await ensureStreams(broker, { replicas: REPLICAS });
    const workflow = await Workflow.create(broker, { logger: silentLogger, replicas: REPLICAS });
    const client = await Client.create(broker, { logger: silentLogger });
    const kv = await broker.kv(DAG_BUCKET);
    return {
      cluster,
      broker,
      workflow,
      client,
      kv,
      async close() {
        await client.close();
        workflow.close();
        await broker.close();
      },
    };
  } catch (err) {
    await broker.close();
    throw err;
  }
}

/**
 * Streams (KV buckets included, as `KV_<bucket>`) whose replicas are not {@link REPLICAS}, as
 * `name=R<n>`: one replica means losing one node loses that stream. Call after the schedulers started
 * (they create `ebind-leader`).
 */
export async function underReplicated(app: ChaosApp): Promise<string[]> {
  const jsm = await jetstreamManager(app.broker.connection);
  const out: string[] = [];
  for await (const si of jsm.streams.list()) {
    if (si.config.num_replicas !== REPLICAS) out.push(`${si.config.name}=R${si.config.num_replicas}`);
  }
  return out.sort();
}

/**
 * The schedulers' shared event consumer: events delivered and not yet acked (held by some
 * scheduler), waiting pull requests, and events not yet delivered.
 */
export async function schedulerEvents(app: ChaosApp): Promise<{ ackPending: number; waitingPulls: number; undelivered: number }> {
  const jsm = await jetstreamManager(app.broker.connection);
  const ci = await jsm.consumers.info(DAG_EVENTS_STREAM, SCHEDULER_DURABLE);
  return { ackPending: ci.num_ack_pending, waitingPulls: ci.num_waiting, undelivered: ci.num_pending };
}

/** The consumers of `stream`: `durable R<replicas> leader=<server> pending=<n> ackPending=<n> waiting=<n>` each. */
export async function consumerLeaders(app: ChaosApp, stream: string): Promise<string[]> {
  const jsm = await jetstreamManager(app.broker.connection);
  const out: string[] = [];
  for await (const ci of jsm.consumers.list(stream)) {
    out.push(`${ci.name} R${ci.config.num_replicas || "(stream's)"} leader=${ci.cluster?.leader ?? "none"} pending=${ci.num_pending} ackPending=${ci.num_ack_pending} waiting=${ci.num_waiting}`);
  }
  return out.sort();
}

/**
 * Moves the leadership of consumer `durable` of `stream` to server `serverName` by asking the
 * current leader to step down (the new leader is the cluster's pick) up to `tries` times.
 * @returns whether `serverName` leads it now.
 */
export async function moveConsumerLeader(app: ChaosApp, stream: string, durable: string, serverName: string, tries = 20): Promise<boolean> {
  const jsm = await jetstreamManager(app.broker.connection);
  for (let i = 0; i < tries; i++) {
    const leader = (await jsm.consumers.info(stream, durable)).cluster?.leader;
    if (leader === serverName) return true;
    if (leader !== undefined) await app.broker.connection.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${durable}`, undefined, { timeout: 5000 });
    await pause(300);
  }
  return (await jsm.consumers.info(stream, durable)).cluster?.leader === serverName;
}

/** Names of the streams on the cluster (to check that {@link underReplicated} saw the leader bucket). */
export async function streamNames(app: ChaosApp): Promise<string[]> {
  const jsm = await jetstreamManager(app.broker.connection);
  const out: string[] = [];
  for await (const si of jsm.streams.list()) out.push(si.config.name);
  return out.sort();
}

/** Phase timings of a run: `phase()` runs one and prints `chaos: <name> <ms> ms`. */
export class Phases {
  readonly timings: Array<{ name: string; ms: number }> = [];

  constructor(private readonly print: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}

  /** Runs `fn` as phase `name`, records and prints its duration (also when it throws). */
  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      this.note(name, Date.now() - t0);
    }
  }

  /** Records a duration measured elsewhere. */
  note(name: string, ms: number): void {
    this.timings.push({ name, ms });
    this.print(`chaos: ${name} ${ms} ms`);
  }
}

/**
 * Polls `probe` every `pollMs` until it returns true; errors thrown by the probe count as "not yet".
 * @throws Error `timed out after <ms> ms waiting for <what>` (with the last probe error, if any).
 */
export async function waitUntil(what: string, timeoutMs: number, probe: () => boolean | Promise<boolean>, pollMs = 100): Promise<number> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return Date.now() - t0;
    } catch (err) {
      last = err;
    }
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? "" : ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})`}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Sleeps `ms`. */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
