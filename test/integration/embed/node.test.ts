// Embedded single node: start, JetStream round trip, bind failure, logging, stop/restart semantics.
// Reference: ebind-reference.md §1.6, §3.28, §6.4, §7 items 47–48.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, describe, expect, it, vi } from "vitest";
import { EbindError } from "../../../src/task/errors.js";
import { findNatsServer, freePorts, liveChildPids, requireNatsServer, startNode, type NatsNode } from "../../../src/embed/index.js";
import { describeNats, pidAlive, useNatsNode } from "../../support/nats.js";

const pids = new Set<number>();
const track = (n: NatsNode): NatsNode => {
  pids.add(n.pid);
  return n;
};

afterAll(() => {
  for (const pid of pids) expect(pidAlive(pid), `nats-server pid ${pid} leaked`).toBe(false);
});

async function roundTrip(url: string, stream: string, body: string): Promise<string[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] }).catch(async () => jsm.streams.info(stream));
    const js = jetstream(nc);
    await js.publish(`${stream}.x`, body);
    const info = await jsm.streams.info(stream);
    const out: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m !== null) out.push(m.string());
    }
    return out;
  } finally {
    await nc.close();
  }
}

describeNats("embed: startNode", () => {
  const node = useNatsNode();

  it("starts on a random loopback port; a client connects and JetStream works", async () => {
    track(node());
    expect(node().url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(node().port).not.toBe(4222);
    expect(node().monitorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await roundTrip(node().url, "EMBED_RT", "hello")).toEqual(["hello"]);
  });

  it("fails with the server's own words when the port is taken (§7 item 47)", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const t0 = Date.now();
      const err = await startNode({ port, readyTimeoutMs: 20_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EbindError);
      expect((err as EbindError).message).toContain("address already in use");
      expect(Date.now() - t0).toBeLessThan(10_000); // the exit is seen, not the 20 s ready timeout
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it("gives up after readyTimeoutMs with a timeout error and kills the process", async () => {
    // A stand-in "server" that prints a line and never becomes ready.
    const dir = mkdtempSync(join(tmpdir(), "ebind-fake-server-"));
    const fake = join(dir, "nats-server");
    writeFileSync(fake, "#!/bin/sh\necho 'fake server starting'\nexec sleep 30\n", { mode: 0o755 });
    try {
      const before = liveChildPids();
      const t0 = Date.now();
      const err = await startNode({ binary: fake, readyTimeoutMs: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EbindError);
      expect(err).toMatchObject({ code: "timeout" });
      expect((err as Error).message).toMatch(/^embed: server not ready within 300 ms: .*fake server starting/s);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(liveChildPids()).toEqual(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes server output to a logger (§7 item 48)", async () => {
    const lines: string[] = [];
    const n = track(await startNode({ logger: (l) => lines.push(l) }));
    await n.stop();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes("Server is ready"))).toBe(true);
    expect(n.recentLogs().length).toBeLessThanOrEqual(50);
  });

  it("is silent without a logger (§7 item 48)", async () => {
    const out = vi.spyOn(process.stdout, "write");
    const err = vi.spyOn(process.stderr, "write");
    try {
      const n = track(await startNode());
      await n.stop();
      const written = [...out.mock.calls, ...err.mock.calls].map((c) => String(c[0]));
      expect(written.filter((w) => w.includes("[INF]") || w.includes("nats-server"))).toEqual([]);
      expect(n.recentLogs().some((l) => l.includes("Server is ready"))).toBe(true);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  it("stop is idempotent and removes the owned temp dir", async () => {
    const n = track(await startNode());
    expect(existsSync(n.storeDir)).toBe(true);
    await Promise.all([n.stop(), n.stop()]);
    await n.stop();
    expect(n.running).toBe(false);
    expect(pidAlive(n.pid)).toBe(false);
    expect(existsSync(n.storeDir)).toBe(false);
    await expect(n.restart()).rejects.toMatchObject({ code: "closed" });
  });

  it("keeps a given storeDir; restart keeps url and data", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ebind-embed-test-"));
    try {
      const n = track(await startNode({ storeDir: dir }));
      const url = n.url;
      const firstPid = n.pid;
      expect(await roundTrip(n.url, "EMBED_KEEP", "before")).toEqual(["before"]);
      await n.restart();
      track(n);
      expect(n.pid).not.toBe(firstPid);
      expect(n.url).toBe(url);
      expect(await roundTrip(n.url, "EMBED_KEEP", "after")).toEqual(["before", "after"]);
      await n.kill();
      expect(n.running).toBe(false);
      await n.restart();
      track(n);
      expect(await roundTrip(n.url, "EMBED_KEEP", "again")).toEqual(["before", "after", "again"]);
      await n.stop();
      expect(existsSync(join(dir, "jetstream"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("await using stops the node", async () => {
    let pid = 0;
    {
      await using n = await startNode();
      pid = track(n).pid;
      expect(pidAlive(pid)).toBe(true);
    }
    expect(pidAlive(pid)).toBe(false);
  });
});

describe("embed: finding nats-server", () => {
  it("an explicit missing binary gives the install message", async () => {
    const err = await startNode({ binary: "/nonexistent/nats-server" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EbindError);
    expect((err as EbindError).code).toBe("not_found");
    expect((err as EbindError).message).toContain("/nonexistent/nats-server");
    expect((err as EbindError).message).toContain("NATS_SERVER_BIN");
    expect((err as EbindError).message).toContain("apt-get install nats-server");
  });

  it("findNatsServer honours NATS_SERVER_BIN and PATH", () => {
    const empty = mkdtempSync(join(tmpdir(), "ebind-empty-path-"));
    try {
      expect(findNatsServer({ PATH: empty })).toBeUndefined();
      expect(findNatsServer({ PATH: empty, NATS_SERVER_BIN: "/nonexistent/nats-server" })).toBeUndefined();
      expect(() => requireNatsServer({ PATH: empty })).toThrow(/nats-server was not found on PATH.*NATS_SERVER_BIN.*apt-get install nats-server/s);
      const real = findNatsServer();
      if (real !== undefined) {
        expect(findNatsServer({ PATH: empty, NATS_SERVER_BIN: real })).toBe(real);
        expect(requireNatsServer({ PATH: empty, NATS_SERVER_BIN: real })).toBe(real);
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("freePorts returns distinct non-zero ports", async () => {
    for (const n of [2, 6, 16]) {
      const ports = await freePorts(n);
      expect(ports).toHaveLength(n);
      expect(ports.every((p) => p > 0)).toBe(true);
      expect(new Set(ports).size).toBe(n);
    }
  });

  it("rejects bad options", async () => {
    await expect(startNode({ port: -5 })).rejects.toMatchObject({ code: "invalid_argument" });
    for (const maxPayload of [-5, 100, 1.5, 128 * 1024 * 1024]) {
      await expect(startNode({ maxPayload })).rejects.toThrow(`embed: maxPayload must be an integer number of bytes from 32768 to 67108864, got ${maxPayload}`);
    }
  });
});
