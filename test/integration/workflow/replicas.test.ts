/**
 * Replicas on a 3-node cluster: every bucket and stream the engine creates on its own follows the
 * deployment's replicas (the task stream's, or the workflow's when given), an existing bucket with
 * fewer is scaled up, and nothing an app or ebctl opens with default options scales a replicated
 * deployment down. Issue 16: the leader bucket had one replica, so losing its node left no leader.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { ensureStreams, silentLogger, TASK_STREAM } from "../../../src/broker/index.js";
import { TASK_PAUSES_BUCKET } from "../../../src/broker/parking.js";
import { startCluster, type NatsCluster } from "../../../src/embed/index.js";
import { connectNats, type NatsBroker } from "../../../src/nats/index.js";
import { Registry } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { CLOCK_BUCKET } from "../../../src/worker/server-clock.js";
import { DAG_BUCKET, DAG_EVENTS_STREAM, KvLeaderElector, LEADER_BUCKET, Workflow } from "../../../src/workflow/index.js";
import { describeNats } from "../../support/nats.js";

describeNats("replicas on a 3-node cluster", () => {
  let cluster: NatsCluster;
  let broker: NatsBroker;
  let jsm: JetStreamManager;
  const replicasOf = async (stream: string): Promise<number> => (await jsm.streams.info(stream)).config.num_replicas;

  beforeAll(async () => {
    cluster = await startCluster({ size: 3, name: "replicas" });
    await cluster.waitReady();
    broker = await connectNats({ servers: cluster.urls });
    jsm = await jetstreamManager(broker.connection);
  });
  afterAll(async () => {
    await broker?.close();
    await cluster?.stop();
  });

  it("the workflow, its scheduler's lease and a worker's own buckets take the task stream's replicas", async () => {
    await ensureStreams(broker, { replicas: 3 });
    const workflow = await Workflow.create(broker, { logger: silentLogger });
    const scheduler = await workflow.startScheduler();
    const worker = await Worker.start(broker, new Registry(), { logger: silentLogger, taskPauses: true });
    try {
      for (const stream of [TASK_STREAM, DAG_EVENTS_STREAM, `KV_${DAG_BUCKET}`, `KV_${LEADER_BUCKET}`, `KV_${CLOCK_BUCKET}`, `KV_${TASK_PAUSES_BUCKET}`]) {
        expect(await replicasOf(stream), stream).toBe(3);
      }
    } finally {
      await worker.close();
      await scheduler.stop();
      workflow.close();
    }
  });

  it("opening with default options (an app's ensureStreams, ebctl's workflow) scales nothing down", async () => {
    await ensureStreams(broker);
    const workflow = await Workflow.create(broker, { logger: silentLogger });
    workflow.close();
    for (const stream of [TASK_STREAM, DAG_EVENTS_STREAM, `KV_${DAG_BUCKET}`]) expect(await replicasOf(stream), stream).toBe(3);
    // Asked for explicitly, the task streams do follow.
    await ensureStreams(broker, { replicas: 1 });
    expect(await replicasOf(TASK_STREAM)).toBe(1);
    await ensureStreams(broker, { replicas: 3 });
  });

  it("a lease bucket made with one replica (by an older version) is scaled up when a scheduler asks for three", async () => {
    await jsm.streams.delete(`KV_${LEADER_BUCKET}`).catch(() => false); // left by the first test, when it ran
    await broker.kv(LEADER_BUCKET, { history: 1 });
    expect(await replicasOf(`KV_${LEADER_BUCKET}`)).toBe(1);
    const elector = new KvLeaderElector(broker, { id: "a", replicas: 3, leaseMs: 1000 });
    await elector.start();
    try {
      expect(await replicasOf(`KV_${LEADER_BUCKET}`)).toBe(3);
      // raiseReplicas waits for the new replicas, so the first campaign's writes succeed.
      expect(elector.isLeader()).toBe(true);
    } finally {
      await elector.stop();
    }
  });
});
