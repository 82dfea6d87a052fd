/**
 * The producer side of each system, behind one small interface, so every scenario drives ours,
 * raw JetStream and BullMQ the same way.
 *
 * Settings (the same in every scenario unless it says otherwise):
 * - ours: `connectNats` + `ensureStreams` defaults (file storage, R1, WorkQueue task stream with
 *   msgId dedupe, responses in the EBIND_RESP stream), `Client.create` defaults.
 * - raw: the same @nats-io client and server. Tasks: `js.publish` (no msgID) to a WorkQueue file
 *   stream RAW_TASKS; the worker consumes a durable pull consumer (`consume({max_messages:
 *   concurrency})`, explicit ack, max_ack_pending 20000 like ours). Responses: the worker
 *   `js.publish`es to a limits file stream RAW_RESP then acks the task; the producer consumes its
 *   own durable filtered consumer (`consume({max_messages: 256})`, ack each) — the same durable
 *   path ours takes, with nothing of ours on it.
 * - bullmq: Queue + Worker on a fresh redis-server (no persistence); `removeOnComplete: true` and
 *   `removeOnFail: true` (comparable to the WorkQueue stream deleting acked tasks); results through
 *   one QueueEvents `completed` listener routing to a jobId → resolver map (jobIds chosen by the
 *   producer, registered before `add`, so no race and no per-job `isFinished` round trip: the
 *   fastest correct use); the events stream maxLen raised to 500k so 20k in flight lose no event.
 */
import { randomUUID } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient } from "@nats-io/jetstream";
import { Queue, QueueEvents, FlowProducer } from "bullmq";
import { Client, connectNats, ensureStreams, silentLogger, type NatsBroker } from "../../src/index.js";
import { flaky, noop, PAYLOAD } from "./handlers.js";
import type { System } from "./harness.js";

export type Kind = "noop" | "flaky";

export interface Producer {
  /** Fire and forget: resolves when the system has stored the task. */
  enqueueAsync(kind: Kind): Promise<void>;
  /** Resolves when stored, to a handle on the task's result (wrapped: an async function cannot return a bare promise). */
  enqueueAwait(kind: Kind): Promise<{ result: Promise<unknown> }>;
  close(): Promise<void>;
}

export const RAW_STREAM = "RAW_TASKS";
export const RAW_RESP_STREAM = "RAW_RESP";
export const RAW_DURABLE = "raw-worker";
export const BULL_QUEUE = "bench";
export const ZERO_BACKOFF_RETRY = { initialIntervalMs: 0, maximumAttempts: 3 } as const;

const enc = new TextEncoder();
const dec = new TextDecoder();

export function redisConnection(port: number): { host: string; port: number; maxRetriesPerRequest: null } {
  return { host: "127.0.0.1", port, maxRetriesPerRequest: null };
}

/** Creates whatever the system needs on the servers (streams, consumers) before the worker starts. */
export async function prepare(system: System, natsUrl: string): Promise<void> {
  if (system === "ours") {
    const broker = await connectNats({ servers: natsUrl });
    await ensureStreams(broker);
    await broker.close();
  } else if (system === "raw") {
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: RAW_STREAM, subjects: ["rawtask.>"], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
    await jsm.streams.add({ name: RAW_RESP_STREAM, subjects: ["rawresp.>"], retention: RetentionPolicy.Limits, storage: StorageType.File, max_age: 3600 * 1e9 });
    await jsm.consumers.add(RAW_STREAM, { durable_name: RAW_DURABLE, ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000, ack_wait: 30e9 });
    await nc.close();
  }
}

interface Waiter {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

function deferred(map: Map<string, Waiter>, id: string): Promise<unknown> {
  const p = new Promise<unknown>((resolve, reject) => map.set(id, { resolve, reject }));
  p.catch(() => {}); // outstanding futures rejected on close must not crash the process
  return p;
}

export async function producer(system: System, natsUrl: string, redisPort: number): Promise<Producer> {
  if (system === "ours") return oursProducer(natsUrl);
  if (system === "raw") return rawProducer(natsUrl);
  return bullProducer(redisPort);
}

async function oursProducer(natsUrl: string): Promise<Producer & { broker: NatsBroker; client: Client }> {
  const broker = await connectNats({ servers: natsUrl });
  const client = await Client.create(broker, { logger: silentLogger });
  return {
    broker,
    client,
    async enqueueAsync(kind) {
      if (kind === "noop") await client.enqueueAsync(noop, PAYLOAD);
      else await client.enqueueAsyncWith(flaky, { retryPolicy: ZERO_BACKOFF_RETRY }, PAYLOAD);
    },
    async enqueueAwait(kind) {
      const future = kind === "noop" ? await client.enqueue(noop, PAYLOAD) : await client.enqueueWith(flaky, { retryPolicy: ZERO_BACKOFF_RETRY }, PAYLOAD);
      const r = future.result();
      r.catch(() => {});
      return { result: r };
    },
    async close() {
      await client.close();
      await broker.close();
    },
  };
}

async function rawProducer(natsUrl: string): Promise<Producer & { nc: NatsConnection; js: JetStreamClient }> {
  const nc = await connect({ servers: natsUrl });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const clientId = randomUUID().replaceAll("-", "");
  const waiters = new Map<string, Waiter>();
  const durable = `raw-client-${clientId}`;
  let consuming: { stop(): void } | undefined;
  let starting: Promise<void> | undefined;
  const ensureConsumer = (): Promise<void> => (starting ??= startConsumer());
  const startConsumer = async (): Promise<void> => {
    await jsm.consumers.add(RAW_RESP_STREAM, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      filter_subject: `rawresp.${clientId}.>`,
      deliver_policy: DeliverPolicy.New,
    });
    const c = await js.consumers.get(RAW_RESP_STREAM, durable);
    const msgs = await c.consume({
      max_messages: 256,
      callback: (m) => {
        const r = JSON.parse(dec.decode(m.data)) as { id: string; result: unknown };
        const w = waiters.get(r.id);
        if (w) {
          waiters.delete(r.id);
          w.resolve(r.result);
        }
        m.ack();
      },
    });
    consuming = msgs;
  };
  return {
    nc,
    js,
    async enqueueAsync(kind) {
      const body = { id: randomUUID(), kind, payload: PAYLOAD };
      await js.publish(`rawtask.${kind}`, enc.encode(JSON.stringify(body)));
    },
    async enqueueAwait(kind) {
      await ensureConsumer();
      // register before publishing, like ours
      const id = randomUUID();
      const p = deferred(waiters, id);
      const body = { id, kind, reply: `rawresp.${clientId}.${id}`, payload: PAYLOAD };
      await js.publish(`rawtask.${kind}`, enc.encode(JSON.stringify(body)));
      return { result: p };
    },
    async close() {
      consuming?.stop();
      for (const w of waiters.values()) w.reject(new Error("closed"));
      waiters.clear();
      if (consuming) await jsm.consumers.delete(RAW_RESP_STREAM, durable).catch(() => false);
      await nc.close();
    },
  };
}

export function bullQueue(redisPort: number): Queue {
  return new Queue(BULL_QUEUE, {
    connection: redisConnection(redisPort),
    streams: { events: { maxLen: 500_000 } },
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
}

/** One QueueEvents routing `completed` / `failed` to a jobId → waiter map. */
export async function bullEvents(redisPort: number, waiters: Map<string, Waiter>): Promise<QueueEvents> {
  const events = new QueueEvents(BULL_QUEUE, { connection: redisConnection(redisPort) });
  events.on("completed", ({ jobId, returnvalue }) => {
    const w = waiters.get(jobId);
    if (w) {
      waiters.delete(jobId);
      w.resolve(returnvalue);
    }
  });
  events.on("failed", ({ jobId, failedReason }) => {
    const w = waiters.get(jobId);
    if (w) {
      waiters.delete(jobId);
      w.reject(new Error(failedReason));
    }
  });
  await events.waitUntilReady();
  return events;
}

async function bullProducer(redisPort: number): Promise<Producer & { queue: Queue }> {
  const queue = bullQueue(redisPort);
  await queue.waitUntilReady();
  const waiters = new Map<string, Waiter>();
  let events: QueueEvents | undefined;
  let eventsStarting: Promise<QueueEvents> | undefined;
  const jobOpts = (kind: Kind, jobId: string): Record<string, unknown> =>
    kind === "flaky" ? { jobId, attempts: 3, backoff: { type: "fixed", delay: 0 } } : { jobId };
  return {
    queue,
    async enqueueAsync(kind) {
      await queue.add(kind, { payload: PAYLOAD }, jobOpts(kind, randomUUID()));
    },
    async enqueueAwait(kind) {
      events ??= await (eventsStarting ??= bullEvents(redisPort, waiters));
      const id = randomUUID();
      const p = deferred(waiters, id);
      await queue.add(kind, { payload: PAYLOAD }, jobOpts(kind, id));
      return { result: p };
    },
    async close() {
      for (const w of waiters.values()) w.reject(new Error("closed"));
      waiters.clear();
      await events?.close();
      await queue.close();
    },
  };
}

export { FlowProducer };
