/**
 * Running one suite over every backend: the in-process memory broker and a real nats-server
 * (DESIGN.md §6: the client, worker and DLQ tests run over both).
 * @module
 */
import { afterEach, describe } from "vitest";
import { DEFAULT_WORKER_DURABLE, DLQ_STREAM, ensureStreams, PARKED_STREAM, RESPONSE_STREAM, TASK_STREAM, type Broker } from "../../src/broker/index.js";
import { memoryBroker } from "../../src/memory/index.js";
import { connectNats } from "../../src/nats/index.js";
import { describeNats, useNatsNode } from "./nats.js";

/** A backend a suite runs over. */
export interface BackendUnderTest {
  readonly name: "memory" | "nats";
  /** A fresh broker for one test. On NATS it shares the file's node, so streams may hold earlier data. */
  open(): Promise<Broker>;
}

const memory: BackendUnderTest = { name: "memory", open: async () => memoryBroker() };

/** `describe(name, fn)` once per backend: `name [memory]` always, `name [nats]` through {@link describeNats}. */
export function describeBackends(name: string, fn: (backend: BackendUnderTest) => void): void {
  describe(`${name} [memory]`, () => fn(memory));
  describeNats(`${name} [nats]`, () => {
    const node = useNatsNode();
    fn({ name: "nats", open: () => connectNats({ servers: node().url }) });
  });
}

/** Teardowns registered during a test, run last-first after it (failures ignored). */
export function useCleanups(): Array<() => Promise<unknown>> {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
  });
  return cleanups;
}

/**
 * A broker on `backend` with the task-queue streams, emptied of earlier tests' messages and of the
 * shared worker durable (a NATS node serves every test of a file); closed after the test.
 */
export async function openFreshBroker(backend: BackendUnderTest, cleanups: Array<() => Promise<unknown>>): Promise<Broker> {
  const broker = await backend.open();
  cleanups.push(() => broker.close());
  await ensureStreams(broker);
  for (const s of [TASK_STREAM, RESPONSE_STREAM, DLQ_STREAM, PARKED_STREAM]) await broker.purgeStream(s);
  await broker.deleteConsumer(TASK_STREAM, DEFAULT_WORKER_DURABLE);
  return broker;
}
