/**
 * A server that answers the CONNECT with an `-ERR` other than an authorization error, then closes
 * (here `max_connections: 1` and a second client): the client alone would wait for its connect
 * timeout and say only `timeout`. connectNats fails at once with the server's words when it was
 * given one server, and names each server's reason in the timeout when given several
 * (src/nats/connect-watch.ts).
 */
import { expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNode, type NatsNode } from "../../../src/embed/index.js";
import { connectNats } from "../../../src/nats/index.js";
import { EbindError } from "../../../src/task/index.js";
import { describeNats } from "../../support/nats.js";

async function fullNode(): Promise<{ node: NatsNode; holder: NatsConnection }> {
  const node = await startNode({ extraConfig: "max_connections: 1" });
  const holder = await connect({ servers: node.url });
  return { node, holder };
}

describeNats("connect refused by the server after CONNECT", () => {
  it("one server: fails at once with the server's reason, not at the timeout", async () => {
    const { node, holder } = await fullNode();
    try {
      const t0 = Date.now();
      const err = await connectNats({ servers: node.url, timeoutMs: 20_000 }).then(
        async (b) => {
          await b.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EbindError);
      expect((err as EbindError).message).toBe(`connect ${node.url}: maximum connections exceeded`);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await holder.close();
      await node.stop();
    }
  });

  it("several servers: the timeout names what each server said", async () => {
    const a = await fullNode();
    const b = await fullNode();
    try {
      const err = await connectNats({ servers: [a.node.url, b.node.url], timeoutMs: 1000 }).then(
        async (broker) => {
          await broker.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EbindError);
      const message = (err as EbindError).message;
      expect(message).toMatch(/: timeout \(/);
      for (const n of [a.node, b.node]) expect(message).toContain(`127.0.0.1:${n.port}: maximum connections exceeded`);
    } finally {
      for (const x of [a, b]) {
        await x.holder.close();
        await x.node.stop();
      }
    }
  });
});
