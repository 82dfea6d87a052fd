/**
 * A loopback cluster of `nats-server` child processes with JetStream (HA and chaos tests).
 *
 * Reference: ebind-reference.md §1.6 (`StartCluster`, `Cluster`), §3.28 (readiness), §6.4, §7 items
 * 49–50; nats-2.9-notes.md §7 (config shape, timings).
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EbindError } from "../task/errors.js";
import { metaCluster, health, sleep } from "./monitor.js";
import { ServerNode, type NatsNode } from "./node.js";
import { freePorts } from "./ports.js";

/** Default time to wait for a cluster (start, restart, readiness), ms. */
export const DEFAULT_CLUSTER_READY_TIMEOUT_MS = 30_000;
/** Attempts to start a cluster when a reserved port was taken meanwhile. */
const START_ATTEMPTS = 3;
/** Per-attempt readiness wait in {@link NatsCluster.restartNode}, ms. */
const RESTART_ATTEMPT_MS = 5_000;
const POLL_MS = 100;

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Number of nodes, an integer ≥ 1. */
  readonly size: number;
  /** Cluster name; node i is named `<name>-<i>`. @default "ebind" */
  readonly name?: string;
  /**
   * Directory holding `node-<i>/` store dirs. Given → kept on stop.
   * @default a fresh temporary `ebind-cluster-*` directory, removed by {@link NatsCluster.stop}
   */
  readonly baseDir?: string;
  /** Time for all nodes to start, and default for waits and restarts, ms. @default 30000 */
  readonly readyTimeoutMs?: number;
  /** Path of `nats-server`. @default findNatsServer() */
  readonly binary?: string;
  /** Receives every server output line, prefixed with `[<name>-<i>] `. @default silent */
  readonly logger?: (line: string) => void;
  /**
   * More configuration text for every node, appended as startNode's `extraConfig` says
   * (`authorization`, `tls`…; a top-level `authorization` applies to clients, not to routes).
   * @default none
   */
  readonly extraConfig?: string;
}

/** A running loopback cluster. Obtain one from {@link startCluster}. */
export interface NatsCluster extends AsyncDisposable {
  /** The nodes, index i = server `<name>-<i>`. */
  readonly nodes: readonly NatsNode[];
  /** Client URLs of all nodes, in node order. Stable across restarts. */
  readonly urls: readonly string[];
  /** Route (cluster) port of each node, in node order. Distinct from every client port. */
  readonly clusterPorts: readonly number[];
  /** `urls` joined with commas (for tools taking one string; `connect({servers: cluster.urls})` in code). */
  readonly url: string;
  /**
   * Waits until the nodes agree on a JetStream meta leader that sees all `size` peers as current
   * (polling `/jsz` every 100 ms). Call before creating replicated (R > 1) streams.
   * @param timeoutMs @default the cluster's readyTimeoutMs
   * @throws EbindError `timeout` — `embed: cluster not ready within <ms> ms: <detail>`
   */
  waitReady(timeoutMs?: number): Promise<void>;
  /**
   * Waits until node i's full `/healthz` says `ok` (meta leader contact, caught up), polling every 100 ms.
   * @throws EbindError `invalid_argument` (bad index), `timeout` — `embed: node <i> not healthy within <ms> ms: <detail>`
   */
  waitNodeHealthy(i: number, timeoutMs?: number): Promise<void>;
  /** Stops node i gracefully (SIGTERM, SIGKILL after 5 s); its store is kept. Out-of-range i is ignored. */
  stopNode(i: number): Promise<void>;
  /** Kills node i (default SIGKILL) and resolves when it has exited. @throws EbindError `invalid_argument` */
  killNode(i: number, signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts node i again (stopping it first if it runs) with the same ports, routes and store dir,
   * retrying (5 s per attempt) until readyTimeoutMs has passed. Then use {@link waitNodeHealthy}.
   * @throws EbindError `invalid_argument` — `embed: restart node <i>: index out of range`;
   *   `timeout` — `embed: restart node <i> within <ms> ms: <last error>`
   */
  restartNode(i: number): Promise<void>;
  /** Stops every node and removes an owned baseDir. Idempotent. */
  stop(): Promise<void>;
}

class Cluster implements NatsCluster {
  readonly urls: readonly string[];
  readonly clusterPorts: readonly number[];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly servers: readonly ServerNode[],
    private readonly baseDir: string,
    private readonly ownsBaseDir: boolean,
    private readonly readyTimeoutMs: number,
    clusterPorts: readonly number[],
  ) {
    this.urls = servers.map((s) => s.url);
    this.clusterPorts = clusterPorts;
  }

  get nodes(): readonly NatsNode[] {
    return this.servers;
  }
  get url(): string {
    return this.urls.join(",");
  }

  async waitReady(timeoutMs = this.readyTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const size = this.servers.length;
    let detail = "no meta leader yet";
    for (;;) {
      const running = this.servers.filter((s) => s.running);
      const metas = await Promise.all(running.map((s) => metaCluster(s.monitorUrl)));
      const leaders = new Set(metas.map((m) => m?.leader ?? ""));
      const leaderName = leaders.size === 1 ? [...leaders][0] : undefined;
      if (leaderName === undefined || leaderName === "") {
        detail = `meta leaders seen: ${JSON.stringify(metas.map((m) => m?.leader ?? null))}`;
      } else {
        const idx = running.findIndex((s) => s.serverName === leaderName);
        const meta = metas[idx];
        const current = (meta?.replicas ?? []).filter((r) => r.current).length;
        if (meta !== undefined && 1 + current >= size && running.length === size) return;
        detail = `meta leader ${leaderName} sees ${1 + current} of ${size} peers current (${running.length} running)`;
      }
      if (Date.now() >= deadline) {
        throw new EbindError("timeout", `embed: cluster not ready within ${timeoutMs} ms: ${detail}`);
      }
      await sleep(POLL_MS);
    }
  }

  async waitNodeHealthy(i: number, timeoutMs = this.readyTimeoutMs): Promise<void> {
    const node = this.at(i, `node ${i}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const h = node.running ? await health(node.monitorUrl, false) : { ok: false, detail: "not running" };
      if (h.ok) return;
      if (Date.now() >= deadline) {
        throw new EbindError("timeout", `embed: node ${i} not healthy within ${timeoutMs} ms: ${h.detail}`);
      }
      await sleep(POLL_MS);
    }
  }

  async stopNode(i: number): Promise<void> {
    await this.servers[i]?.halt();
  }

  async killNode(i: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await this.at(i, `kill node ${i}`).kill(signal);
  }

  async restartNode(i: number): Promise<void> {
    const node = this.at(i, `restart node ${i}`);
    await node.halt();
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      try {
        await node.start(Math.max(1, Math.min(RESTART_ATTEMPT_MS, deadline - Date.now())));
        return;
      } catch (err) {
        if (err instanceof EbindError && err.code === "closed") throw err;
        if (Date.now() >= deadline) {
          throw new EbindError(
            "timeout",
            `embed: restart node ${i} within ${this.readyTimeoutMs} ms: ${err instanceof Error ? err.message : String(err)}`,
            { cause: err },
          );
        }
        await sleep(200);
      }
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.servers.map((s) => s.stop()));
      if (this.ownsBaseDir) rmSync(this.baseDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private at(i: number, what: string): ServerNode {
    const node = this.servers[i];
    if (node === undefined) throw new EbindError("invalid_argument", `embed: ${what}: index out of range`);
    return node;
  }
}

/**
 * Starts `size` `nats-server` processes on loopback forming one JetStream cluster.
 *
 * Ports: `3 × size` distinct ports (client, cluster, monitoring per node) are reserved in one pass,
 * all listeners held open until all are chosen, then released just before the spawn (routes must
 * name every cluster port up front, so the server cannot pick them itself). If another process grabs
 * one in between, the node fails with `address already in use` and the whole start is retried with
 * fresh ports (3 attempts).
 *
 * Node i: `server_name` `<name>-<i>`, routes to every other node, store `<baseDir>/node-<i>`, one
 * generated config file each. All nodes start concurrently (so routes form before anyone elects
 * itself) and each is awaited until its client listener is up and JetStream is enabled. This does
 * not wait for a meta leader: call {@link NatsCluster.waitReady} before creating R > 1 assets.
 *
 * @throws EbindError `invalid_argument` — `embed: cluster size must be >= 1`; `not_found` — no
 *   `nats-server`; otherwise `embed: cluster node <i>: <cause>` with the cause's code. Nothing is left
 *   running on failure.
 */
export async function startCluster(opts: ClusterOptions): Promise<NatsCluster> {
  const { size } = opts;
  if (!Number.isInteger(size) || size < 1) {
    throw new EbindError("invalid_argument", "embed: cluster size must be >= 1");
  }
  const name = opts.name ?? "ebind";
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_CLUSTER_READY_TIMEOUT_MS;
  const ownsBaseDir = opts.baseDir === undefined;
  const baseDir = opts.baseDir ?? mkdtempSync(join(tmpdir(), "ebind-cluster-"));
  const host = "127.0.0.1";
  const deadline = Date.now() + readyTimeoutMs;

  for (let attempt = 1; ; attempt++) {
    const servers: ServerNode[] = [];
    let cluster: number[] = [];
    try {
      const ports = await freePorts(3 * size, host);
      const client = ports.slice(0, size);
      cluster = ports.slice(size, 2 * size);
      const monitor = ports.slice(2 * size);
      for (let i = 0; i < size; i++) {
        const storeDir = join(baseDir, `node-${i}`);
        mkdirSync(storeDir, { recursive: true });
        const serverName = `${name}-${i}`;
        const logger = opts.logger;
        servers.push(
          new ServerNode({
            host,
            port: client[i],
            monitorPort: monitor[i],
            storeDir,
            serverName,
            readyTimeoutMs,
            binary: opts.binary,
            ...(opts.extraConfig === undefined ? {} : { extraConfig: opts.extraConfig }),
            logger: logger === undefined ? undefined : (line) => logger(`[${serverName}] ${line}`),
            cluster: {
              name,
              port: cluster[i] ?? 0,
              routes: cluster.filter((_, j) => j !== i).map((p) => `nats-route://${host}:${p}`),
            },
          }),
        );
      }
    } catch (err) {
      await Promise.all(servers.map((s) => s.stop()));
      if (ownsBaseDir) rmSync(baseDir, { recursive: true, force: true });
      throw err;
    }
    const remaining = Math.max(1, deadline - Date.now());
    const results = await Promise.allSettled(servers.map((s) => s.start(remaining)));
    const failed = results.findIndex((r) => r.status === "rejected");
    if (failed === -1) return new Cluster(servers, baseDir, ownsBaseDir, readyTimeoutMs, cluster);

    await Promise.all(servers.map((s) => s.stop()));
    const reason = (results[failed] as PromiseRejectedResult).reason as unknown;
    const message = reason instanceof Error ? reason.message : String(reason);
    if (message.includes("address already in use") && attempt < START_ATTEMPTS && Date.now() < deadline) {
      continue;
    }
    if (ownsBaseDir) rmSync(baseDir, { recursive: true, force: true });
    throw new EbindError(
      reason instanceof EbindError ? reason.code : "unavailable",
      `embed: cluster node ${failed}: ${message}`,
      { cause: reason },
    );
  }
}
