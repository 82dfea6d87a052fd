/**
 * The coalescing transport (src/nats/coalescing-transport.ts) against a real nats-server: what is
 * written during one turn of the event loop — publishes issued several promise hops apart — leaves
 * in one socket write, every message arrives intact and in order, and a connection keeps working
 * across turns and a reconnect. The client's own transport is the control: the same burst costs it
 * a write per hop.
 */
import { afterEach, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { connectCoalescing } from "../../../src/nats/coalescing-transport.js";
import { describeNats, useNatsNode } from "../../support/nats.js";

const utf8 = new TextEncoder();

/** Counts the writes the connection's socket hands to the kernel (`_write` one chunk, `_writev` several). */
function countWrites(nc: NatsConnection): { readonly writes: number } {
  const socket = (nc as unknown as { protocol: { transport: { socket: Record<string, (...a: unknown[]) => unknown> } } }).protocol.transport.socket;
  const counter = { writes: 0 };
  for (const name of ["_write", "_writev"]) {
    const original = socket[name]!.bind(socket);
    socket[name] = (...args: unknown[]) => {
      counter.writes++;
      return original(...args);
    };
  }
  return counter;
}

/** 50 publishes in one turn, the i-th issued after i + 1 awaits (as an engine issues its next request several promise hops after a reply). */
async function burst(nc: NatsConnection, subject: string): Promise<void> {
  await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      for (let hop = 0; hop <= i; hop++) await Promise.resolve();
      nc.publish(subject, utf8.encode(`m${i}`));
    }),
  );
}

describeNats("coalescing transport", () => {
  const node = useNatsNode();
  const open: NatsConnection[] = [];
  afterEach(async () => {
    for (const nc of open.splice(0)) await nc.close().catch(() => undefined);
  });

  it("sends what one turn wrote in one write; the client's transport needs many", async () => {
    const coalescing = await connectCoalescing({ servers: node().url });
    const plain = await connect({ servers: node().url });
    open.push(coalescing, plain);
    const received: string[] = [];
    const sub = plain.subscribe("coalesce.t", { callback: (_err, msg) => void received.push(msg.string()) });
    await plain.flush();

    const ours = countWrites(coalescing);
    await burst(coalescing, "coalesce.t");
    await coalescing.flush();
    const theirs = countWrites(plain);
    await burst(plain, "coalesce.t");
    await plain.flush();

    expect(ours.writes).toBeLessThanOrEqual(3); // the burst, then the flush's PING
    expect(theirs.writes).toBeGreaterThan(10);
    await expect.poll(() => received.length).toBe(100);
    const issued = Array.from({ length: 50 }, (_, i) => `m${i}`);
    expect(received).toEqual([...issued, ...issued]);
    sub.unsubscribe();
  });

  it("keeps working across turns, for requests, and after the server restarts", async () => {
    const nc = await connectCoalescing({ servers: node().url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    open.push(nc);
    nc.subscribe("coalesce.echo", { callback: (_err, msg) => void msg.respond(msg.data) });
    for (let i = 0; i < 3; i++) expect((await nc.request("coalesce.echo", utf8.encode(`r${i}`), { timeout: 2000 })).string()).toBe(`r${i}`);
    await node().restart();
    await expect
      .poll(async () => (await nc.request("coalesce.echo", utf8.encode("again"), { timeout: 500 }).then((m) => m.string(), () => "")), { timeout: 15_000 })
      .toBe("again");
  });
});
