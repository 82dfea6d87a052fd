/**
 * The publish-acknowledgement multiplexer against a real nats-server: acks from a stream, dedupe,
 * and every way an acknowledgement can fail to be one (no stream, a silent responder, an API error,
 * garbage, a closed connection). Core-NATS responders stand in for a stream where the test needs a
 * reply JetStream would never send.
 */
import { afterEach, expect, it } from "vitest";
import { connect, errors as coreErrors, type NatsConnection } from "@nats-io/transport-node";
import { JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { PubAckMux } from "../../../src/nats/pub-acks.js";
import { describeNats, useNatsNode } from "../../support/nats.js";

const utf8 = new TextEncoder();

describeNats("PubAckMux", () => {
  const node = useNatsNode();
  const open: NatsConnection[] = [];
  afterEach(async () => {
    for (const nc of open.splice(0)) await nc.close().catch(() => undefined);
  });
  const conn = async (): Promise<NatsConnection> => {
    const nc = await connect({ servers: node().url, noAsyncTraces: true });
    open.push(nc);
    return nc;
  };

  it("resolves with the stream and sequence, and reports a duplicate message id", async () => {
    const nc = await conn();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "PUBACK_T", subjects: ["puback.t.>"] });
    const mux = new PubAckMux(nc);
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => mux.publish("puback.t.x", utf8.encode(`m${i}`), `id-${i}`, 2000)));
    expect(acks.map((a) => a.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(acks.every((a) => a.stream === "PUBACK_T" && !a.duplicate)).toBe(true);
    const again = await mux.publish("puback.t.x", utf8.encode("m0"), "id-0", 2000);
    expect(again).toEqual({ stream: "PUBACK_T", seq: acks.find((a) => a.seq === 1)!.seq, duplicate: true });
    expect((await jsm.streams.info("PUBACK_T")).state.messages).toBe(50);
  });

  it("rejects with NoRespondersError when no stream captures the subject", async () => {
    const mux = new PubAckMux(await conn());
    await expect(mux.publish("puback.nobody", utf8.encode("x"), undefined, 2000)).rejects.toBeInstanceOf(coreErrors.NoRespondersError);
  });

  it("rejects with TimeoutError when nothing acknowledges in time", async () => {
    const nc = await conn();
    nc.subscribe("puback.silent", { callback: () => undefined }); // takes the message, never answers
    await nc.flush();
    const mux = new PubAckMux(nc);
    await expect(mux.publish("puback.silent", utf8.encode("x"), undefined, 300)).rejects.toBeInstanceOf(coreErrors.TimeoutError);
  });

  it("rejects with JetStreamApiError for an error reply, and names the subject for an unreadable one", async () => {
    const nc = await conn();
    nc.subscribe("puback.refuse", { callback: (_e, m) => void m.respond(utf8.encode('{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}')) });
    nc.subscribe("puback.garbage", { callback: (_e, m) => void m.respond(utf8.encode("not json")) });
    nc.subscribe("puback.partial", { callback: (_e, m) => void m.respond(utf8.encode('{"stream":"S"}')) });
    await nc.flush();
    const mux = new PubAckMux(nc);
    const refused = await mux.publish("puback.refuse", utf8.encode("x"), undefined, 2000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(JetStreamApiError);
    expect((refused as JetStreamApiError).code).toBe(10077);
    await expect(mux.publish("puback.garbage", utf8.encode("x"), undefined, 2000)).rejects.toThrow("publish puback.garbage: unreadable acknowledgement");
    await expect(mux.publish("puback.partial", utf8.encode("x"), undefined, 2000)).rejects.toThrow("publish puback.partial: acknowledgement without stream and sequence");
  });

  it("rejects outstanding publishes when the connection closes, and later ones at once", async () => {
    const nc = await conn();
    nc.subscribe("puback.hold", { callback: () => undefined });
    await nc.flush();
    const mux = new PubAckMux(nc);
    const outstanding = mux.publish("puback.hold", utf8.encode("x"), undefined, 60_000);
    await nc.close();
    await expect(outstanding).rejects.toBeInstanceOf(coreErrors.ClosedConnectionError);
    await expect(mux.publish("puback.hold", utf8.encode("x"), undefined, 60_000)).rejects.toBeInstanceOf(coreErrors.ClosedConnectionError);
    // A mux whose first publish comes after the close rejects too, rather than throwing.
    await expect(new PubAckMux(nc).publish("puback.hold", utf8.encode("x"), undefined, 1000)).rejects.toBeInstanceOf(coreErrors.ClosedConnectionError);
  });
});
