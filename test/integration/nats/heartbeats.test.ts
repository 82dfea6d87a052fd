/**
 * The heartbeat thread (src/nats/heartbeats.ts, DESIGN.md §4 "Long handlers"): in-progress acks sent
 * from a worker thread with its own connection keep a delivery alive while the main thread is blocked
 * by a synchronous loop for three ack waits; without it the same block redelivers the message. Closing
 * the broker ends the thread, an unclosed thread does not keep a process alive, and a thread that
 * cannot connect says so through the logger instead of crashing anything.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import type { Broker, Delivery } from "../../../src/broker/index.js";
import { requireNatsServer } from "../../../src/embed/index.js";
import { freePorts } from "../../../src/embed/ports.js";
import { connectNats, NatsBroker, NatsHeartbeats } from "../../../src/nats/index.js";
import { connect } from "@nats-io/transport-node";
import { recordingLogger } from "../../support/logger.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { useCleanups } from "../../support/backends.js";

const ACK_WAIT_MS = 1000;
const EVERY_MS = 250;

/** Blocks this thread's event loop: nothing scheduled on it runs meanwhile (no timer, no socket I/O). */
function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

/** A work-queue stream `name` on subject `hb.<name>` with a durable `d` whose ack wait is {@link ACK_WAIT_MS}. */
async function queue(broker: Broker, name: string): Promise<void> {
  await broker.ensureStream({ name, subjects: [`hb.${name}`], retention: "workqueue", maxAgeMs: 0, replicas: 1 });
  await broker.ensureConsumer(name, { durable: "d", filterSubject: "", ackWaitMs: ACK_WAIT_MS, maxDeliver: -1 });
}

/** The first delivery of one pull on `name`, or undefined when none came within `expiresMs`. */
async function pullOne(broker: Broker, name: string, expiresMs: number): Promise<Delivery | undefined> {
  for await (const d of broker.pull(name, "d", { max: 1, expiresMs })) return d;
  return undefined;
}

describeNats("heartbeat thread", () => {
  const node = useNatsNode();
  const cleanups = useCleanups();

  async function open(): Promise<NatsBroker> {
    const broker = await connectNats({ servers: node().url });
    cleanups.push(() => broker.close());
    return broker;
  }

  it("keeps a delivery alive while the main thread is blocked for 3× the ack wait; after untrack and ack nothing comes back", async () => {
    const broker = await open();
    await queue(broker, "TRACKED");
    const logger = recordingLogger();
    const heartbeats = broker.startHeartbeats({ everyMs: EVERY_MS, logger });
    expect(heartbeats).toBeInstanceOf(NatsHeartbeats);
    expect(await (heartbeats as NatsHeartbeats).ready).toBe(true);
    await broker.publish("hb.TRACKED", new TextEncoder().encode("x"));
    const delivery = await pullOne(broker, "TRACKED", 5000);
    expect(delivery?.deliveryCount).toBe(1);
    expect(heartbeats!.track(delivery!)).toBe(true);

    blockFor(3 * ACK_WAIT_MS);

    // Not redelivered: a pull that outlasts one more ack wait gets nothing.
    expect(await pullOne(broker, "TRACKED", ACK_WAIT_MS + 500)).toBeUndefined();
    heartbeats!.untrack(delivery!);
    delivery!.ack();
    expect(await pullOne(broker, "TRACKED", ACK_WAIT_MS + 500)).toBeUndefined();
    expect((await broker.streamState("TRACKED"))?.messages).toBe(0);
    expect(logger.lines.filter(([level]) => level === "warn" || level === "error")).toEqual([]);
  });

  it("control: the same block without tracking redelivers the message", async () => {
    const broker = await open();
    await queue(broker, "UNTRACKED");
    const heartbeats = broker.startHeartbeats({ everyMs: EVERY_MS, logger: recordingLogger() }) as NatsHeartbeats;
    expect(await heartbeats.ready).toBe(true);
    await broker.publish("hb.UNTRACKED", new TextEncoder().encode("x"));
    const first = await pullOne(broker, "UNTRACKED", 5000);
    expect(first?.deliveryCount).toBe(1);

    blockFor(3 * ACK_WAIT_MS);

    const again = await pullOne(broker, "UNTRACKED", 5000);
    expect(again?.deliveryCount).toBe(2);
    again!.ack();
  });

  it("a settled delivery stops being tracked, forMs bounds the heartbeats, track refuses a settled delivery", async () => {
    const broker = await open();
    await queue(broker, "SETTLED");
    const heartbeats = broker.startHeartbeats({ everyMs: EVERY_MS, logger: recordingLogger() }) as NatsHeartbeats;
    expect(await heartbeats.ready).toBe(true);
    await broker.publish("hb.SETTLED", new TextEncoder().encode("x"));
    const first = await pullOne(broker, "SETTLED", 5000);
    expect(heartbeats.track(first!)).toBe(true);
    // Settling untracks: had the thread kept sending for the first delivery, its in-progress acks
    // would also keep the redelivered copy alive (acks are not fenced per delivery, DESIGN.md §4a).
    first!.nak();
    const second = await pullOne(broker, "SETTLED", 5000);
    expect(second?.deliveryCount).toBe(2);
    const third = await pullOne(broker, "SETTLED", 5000); // `second` left alone: back after the ack wait
    expect(third?.deliveryCount).toBe(3);
    // forMs bounds the heartbeats (a main thread stuck for good): past it the message comes back.
    expect(heartbeats.track(third!, { forMs: 1 })).toBe(true);
    const fourth = await pullOne(broker, "SETTLED", 5000);
    expect(fourth?.deliveryCount).toBe(4);
    fourth!.ack();
    expect(heartbeats.track(fourth!)).toBe(false);
    expect(() => heartbeats.track(third!, { everyMs: 0 })).toThrow(/everyMs must be a positive number/);
    expect(() => broker.startHeartbeats({ everyMs: Number.NaN })).toThrow(/everyMs must be a positive number/);
  });

  it("closing the broker ends its heartbeat threads; a user's connection gets none", async () => {
    const broker = await connectNats({ servers: node().url });
    const a = broker.startHeartbeats({ everyMs: EVERY_MS, logger: recordingLogger() }) as NatsHeartbeats;
    const b = broker.startHeartbeats({ everyMs: EVERY_MS, logger: recordingLogger() }) as NatsHeartbeats;
    expect(await a.ready).toBe(true);
    await broker.close();
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    expect(broker.startHeartbeats({ everyMs: EVERY_MS })).toBeUndefined();

    const nc = await connect({ servers: node().url });
    const user = await NatsBroker.fromConnection(nc);
    expect(user.startHeartbeats({ everyMs: EVERY_MS })).toBeUndefined();
    await user.close();
    await nc.close();
  });

  it("the thread connects with the broker's own auth (user and password)", async () => {
    const [port] = await freePorts(1);
    const storeDir = await mkdtemp(join(tmpdir(), "ebind-hb-auth-"));
    const server = spawn(requireNatsServer(), ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir, "--user", "u", "--pass", "secret"], {
      stdio: "ignore",
    });
    cleanups.push(async () => {
      server.kill("SIGKILL");
      await rm(storeDir, { recursive: true, force: true });
    });
    const url = `nats://127.0.0.1:${port}`;
    let broker: NatsBroker | undefined;
    for (let i = 0; i < 100 && broker === undefined; i++) {
      broker = await connectNats({ servers: url, user: "u", pass: "secret", timeoutMs: 500 }).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    cleanups.push(() => broker!.close());
    const logger = recordingLogger();
    const heartbeats = broker!.startHeartbeats({ everyMs: EVERY_MS, logger }) as NatsHeartbeats;
    expect(await heartbeats.ready).toBe(true);
    expect(logger.lines).toEqual([]);
  });

  it("a thread that cannot connect logs it and retries, crashes nothing, and closes", async () => {
    const logger = recordingLogger();
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const heartbeats = new NatsHeartbeats({ servers: ["nats://127.0.0.1:1"], timeoutMs: 500 }, { everyMs: EVERY_MS, logger });
    for (let i = 0; i < 100 && !logger.lines.some(([, m]) => m.includes("cannot connect")); i++) await new Promise((r) => setTimeout(r, 50));
    const [level, message] = logger.lines.find(([, m]) => m.includes("cannot connect")) ?? [];
    expect(level).toBe("warn");
    expect(message).toContain("nats://127.0.0.1:1");
    await heartbeats.close();
    expect(await heartbeats.exited).toBe(0);
    expect(await heartbeats.ready).toBe(false);
  });

  it("an open heartbeat thread with a live connection does not keep the process alive", async () => {
    const entry = fileURLToPath(new URL("../../../src/nats/index.ts", import.meta.url));
    const script = `
      const { NatsHeartbeats } = await import(${JSON.stringify(entry)});
      const h = new NatsHeartbeats({ servers: [${JSON.stringify(node().url)}] }, { everyMs: 100 });
      const keepAlive = setInterval(() => undefined, 1000); // the unref'd thread alone would not wait for ready
      console.log("ready " + (await h.ready));
      clearInterval(keepAlive);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    cleanups.push(async () => child.kill("SIGKILL"));
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(out.trim()).toBe("ready true");
    expect(code).toBe(0);
  });
});
