/**
 * A pull's idle heartbeats are half its expiry (src/nats/pull.ts), so the client gives up on missed
 * heartbeats no earlier than the expiry itself: when the server's end-of-pull notice is merely late
 * (a loaded machine; here a server paused with SIGSTOP across the expiry), the pull must end as an
 * expiry does — quietly, the durable still there — not throw `unavailable`. Seen in a full run on a
 * loaded machine as the contract's "filters route …" test failing with "heartbeats missed".
 */
import { expect, it } from "vitest";
import { connectNats, type NatsBroker } from "../../../src/nats/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";

describeNats("NATS pull: a late expiry", () => {
  const node = useNatsNode();

  it("ends quietly when the server answers only after the expiry, and throws not_found when the durable is gone", async () => {
    const broker: NatsBroker = await connectNats({ servers: node().url });
    try {
      await broker.ensureStream({ name: "LATE", subjects: ["late.>"], retention: "workqueue", maxAgeMs: 0, replicas: 1 });
      await broker.ensureConsumer("LATE", { durable: "w", filterSubject: "late.>", ackWaitMs: 30_000, maxDeliver: 5 });
      const started = Date.now();
      const pulling = (async () => {
        const got = [];
        for await (const d of broker.pull("LATE", "w", { max: 10, expiresMs: 1000 })) got.push(d);
        return got;
      })();
      await new Promise((r) => setTimeout(r, 100));
      process.kill(node().pid, "SIGSTOP"); // the server stops answering: no heartbeat, no expiry notice
      await new Promise((r) => setTimeout(r, 1600));
      process.kill(node().pid, "SIGCONT");
      expect(await pulling).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);

      // The durable deleted elsewhere is still reported as gone.
      await broker.deleteConsumer("LATE", "w");
      const gone = (async () => {
        for await (const _ of broker.pull("LATE", "w", { max: 10, expiresMs: 1000 })) void _;
      })();
      await expect(gone).rejects.toMatchObject({ code: "not_found" });
    } finally {
      process.kill(node().pid, "SIGCONT");
      await broker.close();
    }
  });
});
