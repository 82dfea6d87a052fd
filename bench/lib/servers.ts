/**
 * Servers for one benchmark run: a fresh `nats-server` (the project's startNode, random loopback
 * port, temp store) and a fresh `redis-server` (random free loopback port, no persistence). Never the
 * machine's 4222 / 6379.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createConnection } from "node:net";
import { freePorts, startNode, type NatsNode } from "../../src/embed/index.js";

export interface Servers {
  readonly natsUrl: string;
  readonly redisPort: number;
  /** Process ids of the two servers (for their CPU time). */
  readonly natsPid: number;
  readonly redisPid: number | undefined;
  stop(): Promise<void>;
}

async function redisReady(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: "127.0.0.1", port });
      s.once("connect", () => s.write("PING\r\n"));
      s.once("data", (d) => {
        s.destroy();
        resolve(d.toString().startsWith("+PONG"));
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on ${port} not ready`);
}

export async function startRedis(): Promise<{ port: number; child: ChildProcess; stop(): Promise<void> }> {
  const [port] = await freePorts(1);
  if (port === undefined || port === 6379) throw new Error("no free port for redis");
  const child = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  await redisReady(port, Date.now() + 10_000);
  return {
    port,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Starts both servers; `stop()` stops both. */
export async function startServers(): Promise<Servers> {
  const [node, redis] = await Promise.all([startNode(), startRedis()]);
  const n: NatsNode = node;
  if (n.port === 4222) throw new Error("refusing to use port 4222");
  return {
    natsUrl: n.url,
    redisPort: redis.port,
    natsPid: n.pid,
    redisPid: redis.child.pid,
    async stop() {
      await Promise.all([n.stop(), redis.stop()]);
    },
  };
}

export async function versions(): Promise<{ nats: string; redis: string }> {
  const { execFileSync } = await import("node:child_process");
  const { findNatsServer } = await import("../../src/embed/index.js");
  const bin = findNatsServer() ?? "nats-server";
  const nats = execFileSync(bin, ["--version"]).toString().trim();
  const redis = execFileSync("redis-server", ["--version"]).toString().trim();
  return { nats, redis };
}
