/**
 * One `nats-server` child process with JetStream: start, stop, kill, restart.
 *
 * Reference: ebind-reference.md §1.6 (`StartNode`, `Node`), §3.28 (readiness), §6.4 and §7 items 47–48;
 * DESIGN.md §5.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { EbindError } from "../task/errors.js";

/** Smallest `maxPayload` accepted: room for a task next to the 16 KiB kept for its dead-letter entry. */
const MIN_MAX_PAYLOAD_BYTES = 32 * 1024;
/** Largest `maxPayload` nats-server accepts: 64 MiB. */
const MAX_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
import { findNatsServer, isExecutableFile, natsServerNotFound } from "./binary.js";
import { trackChild } from "./children.js";
import { renderConfig, type ServerConfig } from "./config.js";
import { health, sleep } from "./monitor.js";

/** Default time to wait for a single node to become ready, ms. */
export const DEFAULT_NODE_READY_TIMEOUT_MS = 10_000;
/** Time between SIGTERM and SIGKILL in {@link NatsNode.stop}, ms. */
export const STOP_GRACE_MS = 5_000;
/** How many of the server's most recent output lines are kept for error messages. */
export const KEPT_LOG_LINES = 50;

/** Options of {@link startNode}. All optional. */
export interface NodeOptions {
  /** Address every listener binds to. @default "127.0.0.1" */
  readonly host?: string;
  /**
   * Client port. `0` = a free port chosen by the server itself (config `listen: host:-1`, read back
   * from its log), which cannot race with other processes. A port that is taken makes
   * {@link startNode} reject with the server's own words (`address already in use`). @default 0
   */
  readonly port?: number;
  /** HTTP monitoring port, used for health checks. `0` = chosen by the server. @default 0 */
  readonly monitorPort?: number;
  /**
   * JetStream store directory (the server creates `jetstream/` inside). Given → kept on stop.
   * @default a fresh temporary directory, removed by {@link NatsNode.stop}
   */
  readonly storeDir?: string;
  /** `server_name`. @default "ebind-<random>" */
  readonly serverName?: string;
  /** How long to wait for JetStream to answer, ms. @default 10000 */
  readonly readyTimeoutMs?: number;
  /** Path of the `nats-server` executable. @default findNatsServer() (`NATS_SERVER_BIN`, then `PATH`) */
  readonly binary?: string;
  /**
   * Receives each line the server prints. Without it the server is silent (its output is only kept,
   * the last 50 lines, for error messages).
   */
  readonly logger?: (line: string) => void;
  /** JetStream `max_memory_store`, bytes. @default the server's (75 % of RAM) */
  readonly jetstreamMaxMemory?: number;
  /**
   * `max_payload`, bytes: an integer from 32 KiB (tasks must leave 16 KiB for their dead-letter entry)
   * to 64 MiB (nats-server's own limit), else `invalid_argument`. @default the server's (1 MiB)
   */
  readonly maxPayload?: number;
  /**
   * More nats-server configuration text, appended verbatim to the generated file: `authorization`,
   * `accounts`, `tls`, operator-mode settings (`operator`, `resolver`, `system_account`)… It must not
   * repeat what the generated part sets (`server_name`, `listen`, `http`, `jetstream`, `max_payload`,
   * `cluster`); the server refuses a file it cannot parse, and {@link startNode} then rejects with its
   * words. Monitoring (`http`) stays plain HTTP without auth, so readiness is checked the same way.
   * @default none
   */
  readonly extraConfig?: string;
}

/**
 * A running (or stopped) `nats-server` child process. Obtain one from {@link startNode}.
 *
 * States: *running* (after start/restart) → *down* (after {@link kill} or a crash; `restart()` brings it
 * back) → *stopped* (after {@link stop}; final: its owned temp dir is gone, `restart()` throws).
 */
export interface NatsNode extends AsyncDisposable {
  /** Client URL, `nats://<host>:<port>`. Stable across restarts. */
  readonly url: string;
  /** Client port. */
  readonly port: number;
  /** Listening address. */
  readonly host: string;
  /** HTTP monitoring URL, `http://<host>:<monitorPort>`. */
  readonly monitorUrl: string;
  /** JetStream store directory. */
  readonly storeDir: string;
  /** `server_name`. */
  readonly serverName: string;
  /** Pid of the current (or last) server process. */
  readonly pid: number;
  /** Whether the server process is alive. */
  readonly running: boolean;
  /** The last output lines of the server (at most 50), newest last. */
  recentLogs(): string[];
  /**
   * Stops the server: SIGTERM, then SIGKILL after 5 s. Idempotent (concurrent and repeated calls share
   * one result). Removes the temporary directory it owns; keeps a given `storeDir`.
   */
  stop(): Promise<void>;
  /**
   * Sends `signal` to the server process (chaos tests) and resolves once it has exited. Keeps the
   * store: {@link restart} brings the node back. Use only signals that end the process.
   * @default signal "SIGKILL"
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Stops the server if it runs (SIGTERM) and starts it again on the same ports and store dir.
   * @throws EbindError `closed` after {@link stop}; otherwise as {@link startNode}.
   */
  restart(): Promise<void>;
}

/** Internal: cluster membership for a node (see cluster.ts). */
export interface ClusterMembership {
  readonly name: string;
  readonly port: number;
  readonly routes: readonly string[];
}

/** Internal: everything a node needs; ports already chosen or 0. */
export interface NodeSpec extends NodeOptions {
  readonly cluster?: ClusterMembership;
}

const CLIENT_LISTEN_RE = /Listening for client connections on (\S+):(\d+)\s*$/;
const MONITOR_LISTEN_RE = /Starting http monitor on (\S+):(\d+)\s*$/;

/** Internal implementation of {@link NatsNode}; use {@link startNode}. */
export class ServerNode implements NatsNode {
  readonly host: string;
  readonly storeDir: string;
  readonly serverName: string;
  private clientPort: number;
  private httpPort: number;
  private readonly binary: string;
  private readonly workDir: string;
  private readonly configPath: string;
  private readonly ownsStoreDir: boolean;
  private readonly logger: ((line: string) => void) | undefined;
  private readonly readyTimeoutMs: number;
  private readonly spec: NodeSpec;
  private readonly logs: string[] = [];
  private child: ChildProcess | undefined;
  private closed: Promise<void> | undefined;
  private lastPid = 0;
  private stopping: Promise<void> | undefined;

  /** @throws EbindError `not_found` (no binary) or `invalid_argument` (bad option). */
  constructor(spec: NodeSpec) {
    this.spec = spec;
    this.host = spec.host ?? "127.0.0.1";
    this.clientPort = checkPort("port", spec.port ?? 0);
    this.httpPort = checkPort("monitorPort", spec.monitorPort ?? 0);
    this.readyTimeoutMs = spec.readyTimeoutMs ?? DEFAULT_NODE_READY_TIMEOUT_MS;
    if (!(this.readyTimeoutMs > 0)) {
      throw new EbindError("invalid_argument", `embed: readyTimeoutMs must be > 0, got ${this.readyTimeoutMs}`);
    }
    const mp = spec.maxPayload;
    if (mp !== undefined && (!Number.isInteger(mp) || mp < MIN_MAX_PAYLOAD_BYTES || mp > MAX_MAX_PAYLOAD_BYTES)) {
      throw new EbindError(
        "invalid_argument",
        `embed: maxPayload must be an integer number of bytes from ${MIN_MAX_PAYLOAD_BYTES} to ${MAX_MAX_PAYLOAD_BYTES}, got ${String(mp)}`,
      );
    }
    if (spec.binary !== undefined) {
      if (!isExecutableFile(spec.binary)) throw natsServerNotFound(`at ${spec.binary}`);
      this.binary = spec.binary;
    } else {
      const found = findNatsServer();
      if (found === undefined) throw natsServerNotFound();
      this.binary = found;
    }
    this.logger = spec.logger;
    this.serverName = spec.serverName ?? `ebind-${Math.random().toString(36).slice(2, 10)}`;
    this.workDir = mkdtempSync(join(tmpdir(), "ebind-nats-"));
    this.configPath = join(this.workDir, "nats-server.conf");
    this.ownsStoreDir = spec.storeDir === undefined;
    this.storeDir = spec.storeDir ?? join(this.workDir, "store");
    mkdirSync(this.storeDir, { recursive: true });
  }

  get port(): number {
    return this.clientPort;
  }
  get url(): string {
    return `nats://${this.host}:${this.clientPort}`;
  }
  get monitorUrl(): string {
    return `http://${this.host}:${this.httpPort}`;
  }
  get pid(): number {
    return this.lastPid;
  }
  get running(): boolean {
    return this.child !== undefined;
  }
  recentLogs(): string[] {
    return [...this.logs];
  }

  /**
   * Spawns the server (if not running) and waits until it is ready, at most `timeoutMs`.
   * On failure the process is killed and an EbindError thrown (`unavailable` if it exited, `timeout`).
   */
  async start(timeoutMs = this.readyTimeoutMs): Promise<void> {
    if (this.stopping !== undefined) throw new EbindError("closed", `embed: node ${this.serverName} is stopped`);
    if (this.child !== undefined) return;
    const cfg: ServerConfig = {
      serverName: this.serverName,
      host: this.host,
      port: this.clientPort === 0 ? -1 : this.clientPort,
      monitorPort: this.httpPort === 0 ? -1 : this.httpPort,
      storeDir: this.storeDir,
      jetstreamMaxMemory: this.spec.jetstreamMaxMemory,
      maxPayload: this.spec.maxPayload,
      cluster: this.spec.cluster,
      extraConfig: this.spec.extraConfig,
    };
    writeFileSync(this.configPath, renderConfig(cfg));
    this.logs.length = 0;

    let spawnError: Error | undefined;
    let exit: string | undefined;
    let clientSeen: number | undefined;
    let monitorSeen: number | undefined = cfg.monitorPort === -1 ? undefined : cfg.monitorPort;
    const child = spawn(this.binary, ["-c", this.configPath], {
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: a terminal's Ctrl-C goes to the application, which stops the server
      // when its shutdown is done (children.ts kills it at exit in any case).
      detached: true,
    });
    child.on("error", (err) => {
      spawnError = err;
    });
    const onLine = (line: string): void => {
      this.logs.push(line);
      if (this.logs.length > KEPT_LOG_LINES) this.logs.shift();
      const c = CLIENT_LISTEN_RE.exec(line);
      if (c?.[2] !== undefined) clientSeen = Number(c[2]);
      const m = MONITOR_LISTEN_RE.exec(line);
      if (m?.[2] !== undefined) monitorSeen = Number(m[2]);
      if (this.logger !== undefined) {
        try {
          this.logger(line);
        } catch {
          // a failing logger must not break the server's supervision
        }
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
    }
    this.closed = new Promise<void>((resolve) => {
      child.once("close", (code, signal) => {
        exit = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    if (child.pid === undefined) {
      await this.closed.catch(() => undefined);
      throw natsServerNotFound(`at ${this.binary} (${spawnError?.message ?? "spawn failed"})`);
    }
    this.child = child;
    this.lastPid = child.pid;
    trackChild(child, [this.workDir]);

    const deadline = Date.now() + timeoutMs;
    let detail = "no failure detail reported";
    for (;;) {
      if (exit !== undefined) {
        throw new EbindError(
          "unavailable",
          `embed: nats-server exited before ready (${exit}): ${this.tail()}`,
          spawnError === undefined ? undefined : { cause: spawnError },
        );
      }
      if (clientSeen !== undefined && monitorSeen !== undefined) {
        const h = await health(`http://${this.host}:${monitorSeen}`, true);
        if (h.ok && exit === undefined) {
          this.clientPort = clientSeen;
          this.httpPort = monitorSeen;
          return;
        }
        detail = h.detail;
      }
      if (Date.now() >= deadline) {
        await this.signalAndWait("SIGKILL", 0);
        throw new EbindError(
          "timeout",
          `embed: server not ready within ${timeoutMs} ms: ${detail}; ${exit ?? "still running"}; ${this.tail()}`,
        );
      }
      await sleep(25);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.signalAndWait("SIGTERM", STOP_GRACE_MS);
      rmSync(this.workDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    const closed = this.closed;
    if (child === undefined || closed === undefined) return;
    child.kill(signal);
    await closed;
  }

  async restart(): Promise<void> {
    if (this.stopping !== undefined) throw new EbindError("closed", `embed: node ${this.serverName} is stopped`);
    await this.signalAndWait("SIGTERM", STOP_GRACE_MS);
    await this.start();
  }

  /** Internal: SIGTERM-stops the process (if running) without removing anything. */
  async halt(): Promise<void> {
    await this.signalAndWait("SIGTERM", STOP_GRACE_MS);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** Sends `signal`; after `graceMs` without exit, SIGKILL; resolves once the process is gone. */
  private async signalAndWait(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = this.child;
    const closed = this.closed;
    if (child === undefined || closed === undefined) return;
    child.kill(signal);
    if (signal !== "SIGKILL") {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (!timedOut) return;
      child.kill("SIGKILL");
    }
    await closed;
  }

  /** The server's error lines (`[FTL]`, `[ERR]`) first, then its last few output lines. */
  private tail(lines = 8): string {
    if (this.logs.length === 0) return "(no server output)";
    const errors = this.logs.filter((l) => /\[(FTL|ERR)\]/.test(l));
    const last = this.logs.slice(-lines).join("\n");
    return errors.length === 0 ? last : `${errors.join("\n")}\n--- last output ---\n${last}`;
  }
}

function checkPort(name: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new EbindError("invalid_argument", `embed: ${name} must be an integer in 0..65535, got ${port}`);
  }
  return port;
}

/**
 * Starts `nats-server -c <generated config>` as a child process with JetStream enabled and waits
 * until it is ready.
 *
 * Ports: with `port: 0` (the default) the config says `listen: host:-1`, the server binds a free port
 * itself and we read it from its log line `Listening for client connections on <host>:<port>`; the
 * same for monitoring (`Starting http monitor on <host>:<port>`). This has no window in which another
 * process could take a reserved port (unlike reserving with a socket and releasing it before spawn),
 * and works on every server version (unlike `-p -1` on the command line). A restart reuses the ports
 * first chosen.
 *
 * Readiness: the client listener is bound (the log line above, printed only after a successful bind)
 * and `GET <monitorUrl>/healthz?js-enabled-only=true` answers `{"status":"ok"}`.
 *
 * @param opts see {@link NodeOptions}.
 * @returns the running node; stop it with `stop()` or `await using`.
 * @throws EbindError `not_found` — no `nats-server` (message says how to install it);
 *   `unavailable` — the server exited before ready, with its last output (e.g. `address already in use`);
 *   `timeout` — `embed: server not ready within <ms> ms: <detail>` (the server is killed);
 *   `invalid_argument` — a bad option.
 */
export async function startNode(opts: NodeOptions = {}): Promise<NatsNode> {
  const node = new ServerNode(opts);
  try {
    await node.start();
  } catch (err) {
    await node.stop();
    throw err;
  }
  return node;
}
