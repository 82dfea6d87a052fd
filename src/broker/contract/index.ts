/**
 * The broker contract suite: every behaviour the engine relies on from a {@link Broker} backend,
 * split by capability, each a function taking a backend factory. A backend passes when all of them
 * pass; a behaviour two backends disagree on is a bug in one of them.
 *
 * @example
 * // test/contract/memory.test.ts
 * import { describeBrokerContract } from "../../src/broker/contract/index.js";
 * describeBrokerContract("memory", async () => {
 *   const clock = new ManualClock();
 *   const broker = memoryBroker({ clock });
 *   return { broker, clock, close: () => broker.close() };
 * });
 *
 * Test code (imports vitest); not part of the package build.
 * @module
 */
import type { BackendFactory } from "./harness.js";
import { describeConsumerContract } from "./consumers.js";
import { describeDedupeContract } from "./dedupe.js";
import { describeKvContract } from "./kv.js";
import { describeLogContract } from "./log.js";
import { describeStreamsContract } from "./streams.js";
import { describeWorkQueueContract } from "./work-queue.js";

export { describeConsumerContract, describeDedupeContract, describeKvContract, describeLogContract, describeStreamsContract, describeWorkQueueContract };
export { Harness, useHarness, bytes, text } from "./harness.js";
export type { BackendFactory, ContractBackend, WatchReader } from "./harness.js";

/** Every capability suite over one backend. */
export function describeBrokerContract(name: string, make: BackendFactory): void {
  describeStreamsContract(name, make);
  describeWorkQueueContract(name, make);
  describeConsumerContract(name, make);
  describeDedupeContract(name, make);
  describeLogContract(name, make);
  describeKvContract(name, make);
}
