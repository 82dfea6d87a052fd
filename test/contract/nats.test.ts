/**
 * The broker contract over a real nats-server (one node per file, random loopback port), in real time.
 */
import { describeBrokerContract } from "../../src/broker/contract/index.js";
import { connectNats } from "../../src/nats/index.js";
import { describeNats, useNatsNode } from "../support/nats.js";

describeNats("broker contract on nats-server", () => {
  const node = useNatsNode();
  describeBrokerContract("nats", async () => {
    const broker = await connectNats({ servers: node().url });
    return { broker, close: () => broker.close() };
  });
});
