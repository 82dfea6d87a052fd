/**
 * Connecting to a NATS deployment (DESIGN.md §5): servers plus one of user/password, token, a
 * credentials file or TLS. The server must be nats-server 2.9 or later with JetStream enabled.
 * @module
 */
import { readFile } from "node:fs/promises";
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from "@nats-io/transport-node";
import { EbindError } from "../task/errors.js";
import { NatsBroker } from "./broker.js";
import { connectCoalescing } from "./coalescing-transport.js";
import { describeConnectError } from "./connect-watch.js";
import type { NatsThreadConnectOptions } from "./heartbeat-thread.js";

/** Options of {@link connectNats}. */
export interface NatsConnectOptions {
  /**
   * One URL, a comma-separated list, or an array (`nats://127.0.0.1:4222`). Credentials in a URL
   * (`nats://user:pass@host:4222`, or `nats://token@host:4222`) are used when no other
   * authentication option is given, as the nats CLI does, and never appear in error messages.
   */
  readonly servers: string | readonly string[];
  /** Connection name shown by the server's monitoring. @default "ebind" */
  readonly name?: string | undefined;
  readonly user?: string | undefined;
  readonly pass?: string | undefined;
  readonly token?: string | undefined;
  /** Path to a `.creds` file (JWT + nkey seed). */
  readonly credsFile?: string | undefined;
  /** Path to a file holding an nkey seed (`SU…`, as `nsc`/`nk` write it), for nkey authentication. */
  readonly nkeyFile?: string | undefined;
  /** TLS options passed to the client (`{ caFile, certFile, keyFile }`), or `true` for system CAs. */
  readonly tls?: ConnectionOptions["tls"] | true | undefined;
  /** Time to establish the connection, in ms; a positive number, else `invalid_argument`. @default 5000 */
  readonly timeoutMs?: number | undefined;
  /** Keep reconnecting forever (default) or give up after this many attempts. @default -1 */
  readonly maxReconnectAttempts?: number | undefined;
}

/** The oldest server ebind supports (DESIGN.md §4a). */
export const MIN_SERVER_VERSION = "2.9.0";

function parseServers(servers: string | readonly string[]): string[] {
  const list = typeof servers === "string" ? servers.split(",") : [...servers];
  const out = list.map((s) => s.trim()).filter((s) => s.length > 0);
  if (out.length === 0) throw new EbindError("invalid_argument", "connectNats: servers must name at least one URL");
  return out;
}

/** Credentials a server URL carries (`nats://user:pass@host`, or `nats://token@host`), as the nats CLI reads them. */
interface UrlCredentials {
  readonly user?: string | undefined;
  readonly pass?: string | undefined;
  readonly token?: string | undefined;
}

/**
 * Splits the credentials out of server URLs: the client would ignore them. The first URL that
 * carries some supplies them; every URL is passed on without them.
 */
export function splitUrlCredentials(servers: readonly string[]): { servers: string[]; credentials: UrlCredentials } {
  let credentials: UrlCredentials = {};
  const bare = servers.map((server) => {
    const m = /^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@(.*)$/i.exec(server);
    if (!m) return server;
    const [, scheme, userinfo, rest] = m;
    if (credentials.user === undefined && credentials.token === undefined) {
      const colon = userinfo!.indexOf(":");
      credentials =
        colon < 0
          ? { token: decodeURIComponent(userinfo!) }
          : { user: decodeURIComponent(userinfo!.slice(0, colon)), pass: decodeURIComponent(userinfo!.slice(colon + 1)) };
    }
    return `${scheme}${rest}`;
  });
  return { servers: bare, credentials };
}

/** A server list for messages: passwords and tokens in URLs replaced by `***`. */
export function redactServers(servers: readonly string[]): string {
  return servers
    .map((s) =>
      s.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_all, scheme: string, userinfo: string) => {
        const colon = userinfo.indexOf(":");
        return `${scheme}${colon < 0 ? "***" : `${userinfo.slice(0, colon)}:***`}@`;
      }),
    )
    .join(",");
}

function versionAtLeast(version: string, min: string): boolean {
  const a = version.split(".").map((p) => Number.parseInt(p, 10));
  const b = min.split(".").map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** The seed in an nkey file: the first line that looks like a user seed (`SU…`), as `nk -gen user` writes it. */
async function readNkeySeed(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new EbindError("invalid_argument", `connectNats: nkey file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const seed = text.split(/\r?\n/).map((l) => l.trim()).find((l) => /^SU[A-Z2-7]{50,}$/.test(l));
  if (seed === undefined) throw new EbindError("invalid_argument", `connectNats: nkey file ${path} holds no user seed (a line starting SU)`);
  return new TextEncoder().encode(seed);
}

/**
 * Connects and returns a {@link NatsBroker} that owns the connection (closing it drains).
 * @throws EbindError `unavailable` when no server answers, `invalid_argument` for bad options or a
 *   server older than 2.9 or without JetStream.
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsBroker> {
  const given = parseServers(options.servers);
  const shown = redactServers(given);
  const { servers, credentials } = splitUrlCredentials(given);
  const fromUrl = options.user === undefined && options.token === undefined && options.credsFile === undefined && options.nkeyFile === undefined ? credentials : {};
  options = { ...options, user: options.user ?? fromUrl.user, pass: options.pass ?? fromUrl.pass, token: options.token ?? fromUrl.token };
  const t = options.timeoutMs;
  if (t !== undefined && (typeof t !== "number" || !Number.isFinite(t) || t <= 0)) {
    throw new EbindError("invalid_argument", `connectNats: timeoutMs must be a positive number of ms, got ${String(t)}`);
  }
  const connectionOptions: ConnectionOptions = {
    servers,
    name: options.name ?? "ebind",
    timeout: options.timeoutMs ?? 5000,
    maxReconnectAttempts: options.maxReconnectAttempts ?? -1,
    // Without this the client captures a stack trace for every request: ~9% of the demo's CPU.
    noAsyncTraces: true,
  };
  if (options.user !== undefined) connectionOptions.user = options.user;
  if (options.pass !== undefined) connectionOptions.pass = options.pass;
  if (options.token !== undefined) connectionOptions.token = options.token;
  if (options.tls !== undefined) connectionOptions.tls = options.tls === true ? {} : options.tls;
  let creds: Uint8Array | undefined;
  if (options.credsFile !== undefined) {
    try {
      creds = await readFile(options.credsFile);
    } catch (err) {
      throw new EbindError("invalid_argument", `connectNats: credentials file ${options.credsFile}: ${(err as Error).message}`, { cause: err });
    }
    connectionOptions.authenticator = credsAuthenticator(creds);
  }
  let nkeySeed: Uint8Array | undefined;
  if (options.nkeyFile !== undefined) {
    if (creds !== undefined) throw new EbindError("invalid_argument", "connectNats: give credsFile or nkeyFile, not both");
    nkeySeed = await readNkeySeed(options.nkeyFile);
    connectionOptions.authenticator = nkeyAuthenticator(nkeySeed);
  }
  // The same servers and auth, as plain data, for the heartbeat thread's own connection.
  const threadConnect: NatsThreadConnectOptions = {
    servers,
    name: `${connectionOptions.name ?? "ebind"}-heartbeats`,
    user: options.user,
    pass: options.pass,
    token: options.token,
    creds,
    nkeySeed,
    tls: connectionOptions.tls ?? undefined,
    timeoutMs: connectionOptions.timeout,
    maxReconnectAttempts: connectionOptions.maxReconnectAttempts,
  };
  let nc;
  try {
    nc = await connectCoalescing(connectionOptions);
  } catch (err) {
    throw new EbindError("unavailable", `connect ${shown}: ${err instanceof Error ? describeConnectError(err) : String(err)}`, { cause: err });
  }
  const info = nc.info;
  if (info && !versionAtLeast(info.version, MIN_SERVER_VERSION)) {
    await nc.close();
    throw new EbindError("invalid_argument", `connect: nats-server ${info.version} is older than ${MIN_SERVER_VERSION}`);
  }
  if (info && info.jetstream === false) {
    await nc.close();
    throw new EbindError("invalid_argument", `connect: JetStream is not enabled on ${shown} (start nats-server with -js)`);
  }
  try {
    return await NatsBroker.fromConnection(nc, { ownsConnection: true, threadConnect });
  } catch (err) {
    await nc.close();
    throw new EbindError("unavailable", `connect: JetStream: ${(err as Error).message}`, { cause: err });
  }
}
