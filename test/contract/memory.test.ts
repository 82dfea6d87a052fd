/**
 * The broker contract over the memory backend, on a manual clock (no sleeping).
 */
import { ManualClock } from "../../src/broker/index.js";
import { describeBrokerContract } from "../../src/broker/contract/index.js";
import { memoryBroker } from "../../src/memory/index.js";

describeBrokerContract("memory", async () => {
  const clock = new ManualClock();
  const broker = memoryBroker({ clock });
  return { broker, clock, close: () => broker.close() };
});
