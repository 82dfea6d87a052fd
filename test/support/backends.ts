/**
 * Running one suite over every backend: the in-process memory broker and a real nats-server
 * (DESIGN.md §6: the client, worker and DLQ tests run over both).
 * @module
 */
import { describe } from "vitest";
import type { Broker } from "../../src/broker/index.js";
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
