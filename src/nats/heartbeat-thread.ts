/**
 * The code of the heartbeat thread (see heartbeats.ts), and the messages it exchanges with its parent.
 *
 * The thread runs as an eval'd `worker_threads` Worker: its code is the plain JavaScript string
 * below, not a module file, so it runs the same from compiled `dist/` and under vitest or tsx (where
 * this package's files are `.ts`). It uses neither `require` nor static imports, so it runs whether
 * Node evaluates it as CommonJS or as an ES module (as under `--input-type=module`). The only module it loads is the NATS client, by the absolute URL
 * the parent resolved. It opens its own connection, and every `everyMs` of each tracked delivery it
 * publishes `+WPI` (JetStream's in-progress ack) to the delivery's ack subject and flushes, on its
 * own event loop: a handler that blocks the parent's loop does not stop it.
 *
 * It never throws into its parent: failures are posted as `log` messages, and it retries a connection
 * it cannot open every `retryMs`. On `close` it drains its connection (at most 2 s) and exits.
 * @module
 */
import type { ConnectionOptions } from "@nats-io/transport-node";

/** Plain-data options of the thread's connection (copied to the thread; no functions). */
export interface NatsThreadConnectOptions {
  /** Server URLs (`nats://host:port`), at least one. */
  readonly servers: readonly string[];
  /** Connection name shown by the server's monitoring. @default "ebind-heartbeats" */
  readonly name?: string | undefined;
  readonly user?: string | undefined;
  readonly pass?: string | undefined;
  readonly token?: string | undefined;
  /** The contents of a `.creds` file (JWT + nkey seed). */
  readonly creds?: Uint8Array | undefined;
  /** An nkey seed (`SU…`), for nkey authentication. */
  readonly nkeySeed?: Uint8Array | undefined;
  /** TLS options of the client (`{ caFile, certFile, keyFile }`, `{}` for system CAs); plain data only. */
  readonly tls?: ConnectionOptions["tls"] | undefined;
  /** Time to establish the connection, in ms. @default 5000 */
  readonly timeoutMs?: number | undefined;
  /** Reconnect attempts after a lost connection, -1 forever. @default -1 */
  readonly maxReconnectAttempts?: number | undefined;
}

/** `workerData` of the thread. */
export interface HeartbeatThreadData {
  /** `file:` URL of the `@nats-io/transport-node` entry, resolved by the parent. */
  readonly transportUrl: string;
  readonly connect: NatsThreadConnectOptions;
  /** Pause between two attempts to open the connection, in ms. */
  readonly retryMs: number;
  /** The shared table of tracked deliveries (see {@link TABLE}). */
  readonly table: SharedArrayBuffer;
}

/**
 * The shared table through which the parent tracks deliveries without a message per delivery:
 * `SLOTS` slots, each with four Int32 fields (`generation`, subject length, `everyMs`, `forMs`), one
 * Float64 (when it was tracked, `Date.now()`), and `SUBJECT_BYTES` bytes of ack subject. A slot is in
 * use while its generation is odd: the parent writes the fields, then stores the odd generation;
 * it frees the slot by storing the next (even) one. The thread scans the table every `SCAN_MS` and
 * re-reads a slot whose generation changed, checking it again after reading the subject.
 */
export const TABLE = { SLOTS: 4096, SUBJECT_BYTES: 512, SCAN_MS: 25 } as const;

/** Bytes of the shared table. */
export const TABLE_BYTES = TABLE.SLOTS * 4 * 4 + TABLE.SLOTS * 8 + TABLE.SLOTS * TABLE.SUBJECT_BYTES;

/** Views over the shared table, laid out as {@link TABLE} says. */
export function tableViews(sab: SharedArrayBuffer): { meta: Int32Array; times: Float64Array; subjects: Uint8Array } {
  const metaBytes = TABLE.SLOTS * 4 * 4;
  return {
    meta: new Int32Array(sab, 0, TABLE.SLOTS * 4),
    times: new Float64Array(sab, metaBytes, TABLE.SLOTS),
    subjects: new Uint8Array(sab, metaBytes + TABLE.SLOTS * 8, TABLE.SLOTS * TABLE.SUBJECT_BYTES),
  };
}

/** Parent → thread. `forMs` 0 means no limit. */
export type ToHeartbeatThread =
  | { readonly type: "track"; readonly subject: string; readonly everyMs: number; readonly forMs: number }
  | { readonly type: "untrack"; readonly subject: string }
  | { readonly type: "close" };

/** Thread → parent. `ready` follows each successful connect. */
export type FromHeartbeatThread =
  | { readonly type: "ready" }
  | { readonly type: "log"; readonly level: "debug" | "info" | "warn" | "error"; readonly message: string; readonly error?: string };

/** The thread's source: CommonJS, run with `new Worker(HEARTBEAT_THREAD_SOURCE, { eval: true, workerData })`. */
export const HEARTBEAT_THREAD_SOURCE = String.raw`
"use strict";
// Neither require nor static imports: the code runs as CommonJS or as an ES module alike.
let parentPort;
let workerData;
const WPI = Uint8Array.of(43, 87, 80, 73); // "+WPI"
const tracked = new Map(); // ack subject -> { every, next, until }
let nc;
let closing = false;
let timer;
let timerAt = Infinity;

function report(level, message, err) {
  const m = { type: "log", level, message };
  if (err !== undefined) m.error = String((err && err.message) || err);
  parentPort.postMessage(m);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function schedule(at) {
  if (closing || at >= timerAt) return;
  if (timer !== undefined) clearTimeout(timer);
  timerAt = at;
  timer = setTimeout(tick, Math.max(0, at - performance.now()));
}

function tick() {
  timer = undefined;
  timerAt = Infinity;
  const now = performance.now();
  let next = Infinity;
  let sent = 0;
  for (const [subject, t] of tracked) {
    if (t.until <= now) {
      tracked.delete(subject);
      continue;
    }
    if (t.next <= now) {
      t.next = now + t.every;
      if (nc !== undefined) {
        try {
          nc.publish(subject, WPI);
          sent++;
        } catch (err) {
          report("warn", "heartbeat thread: publishing an in-progress ack failed", err);
        }
      }
    }
    next = Math.min(next, t.next, t.until);
  }
  if (sent > 0) nc.flush().catch((err) => report("warn", "heartbeat thread: flush failed", err));
  if (next !== Infinity) schedule(next);
}

async function watch(conn) {
  (async () => {
    for await (const s of conn.status()) {
      if (s.type === "disconnect") report("warn", "heartbeat thread: disconnected from " + String(s.server));
      else if (s.type === "reconnect") report("info", "heartbeat thread: reconnected to " + String(s.server));
      else if (s.type === "error") report("warn", "heartbeat thread: connection error", s.error);
    }
  })().catch(() => undefined);
  const err = await conn.closed();
  if (nc === conn) nc = undefined;
  if (!closing) {
    report("error", "heartbeat thread: connection closed; opening a new one", err);
    void open();
  }
}

async function open() {
  let api;
  try {
    const mod = await import(workerData.transportUrl);
    api = typeof mod.connect === "function" ? mod : mod.default;
  } catch (err) {
    report("error", "heartbeat thread: cannot load the NATS client from " + workerData.transportUrl, err);
    return;
  }
  const c = workerData.connect;
  const options = {
    servers: c.servers,
    name: c.name ?? "ebind-heartbeats",
    timeout: c.timeoutMs ?? 5000,
    maxReconnectAttempts: c.maxReconnectAttempts ?? -1,
    noAsyncTraces: true,
  };
  if (c.user !== undefined) options.user = c.user;
  if (c.pass !== undefined) options.pass = c.pass;
  if (c.token !== undefined) options.token = c.token;
  if (c.tls !== undefined) options.tls = c.tls;
  while (!closing) {
    try {
      if (c.creds !== undefined) options.authenticator = api.credsAuthenticator(c.creds);
      else if (c.nkeySeed !== undefined) options.authenticator = api.nkeyAuthenticator(c.nkeySeed);
      const conn = await api.connect(options);
      if (closing) {
        await conn.close();
        return;
      }
      nc = conn;
      parentPort.postMessage({ type: "ready" });
      void watch(conn);
      return;
    } catch (err) {
      report("warn", "heartbeat thread: cannot connect to " + c.servers.join(",") + "; retrying in " + workerData.retryMs + " ms", err);
      await sleep(workerData.retryMs);
    }
  }
}

async function shutdown() {
  if (closing) return;
  closing = true;
  if (timer !== undefined) clearTimeout(timer);
  tracked.clear();
  const conn = nc;
  nc = undefined;
  if (conn !== undefined) {
    await Promise.race([conn.drain().catch(() => conn.close()), sleep(2000)]).catch(() => undefined);
  }
  process.exit(0);
}

function handle(m) {
  if (m.type === "track") {
    const now = performance.now();
    const t = { every: m.everyMs, next: now + m.everyMs, until: m.forMs > 0 ? now + m.forMs : Infinity };
    tracked.set(m.subject, t);
    schedule(Math.min(t.next, t.until));
  } else if (m.type === "untrack") {
    tracked.delete(m.subject);
  } else if (m.type === "close") {
    void shutdown();
  }
}

// The shared table (TABLE in the module above: keep the two in step).
const SLOTS = 4096, SUBJECT_BYTES = 512, SCAN_MS = 25;
let meta, times, subjects;
const seen = new Int32Array(SLOTS); // the generation last read per slot
const slotNext = new Float64Array(SLOTS);
const slotUntil = new Float64Array(SLOTS);
const slotEvery = new Float64Array(SLOTS);
const slotSubject = new Array(SLOTS);
const decoder = new TextDecoder();

function scan() {
  if (closing) return;
  const now = Date.now();
  let sent = 0;
  for (let i = 0; i < SLOTS; i++) {
    const gen = Atomics.load(meta, i * 4);
    if ((gen & 1) === 0) continue;
    if (gen !== seen[i]) {
      const len = meta[i * 4 + 1], every = meta[i * 4 + 2], forMs = meta[i * 4 + 3], at = times[i];
      const subject = decoder.decode(subjects.subarray(i * SUBJECT_BYTES, i * SUBJECT_BYTES + len));
      if (Atomics.load(meta, i * 4) !== gen) continue; // rewritten while read: next scan
      seen[i] = gen;
      slotSubject[i] = subject;
      slotEvery[i] = every;
      slotNext[i] = at + every;
      slotUntil[i] = forMs > 0 ? at + forMs : Infinity;
    }
    if (slotUntil[i] <= now || slotNext[i] > now) continue;
    slotNext[i] = now + slotEvery[i];
    if (nc === undefined) continue;
    try {
      nc.publish(slotSubject[i], WPI);
      sent++;
    } catch (err) {
      report("warn", "heartbeat thread: publishing an in-progress ack failed", err);
    }
  }
  if (sent > 0) nc.flush().catch((err) => report("warn", "heartbeat thread: flush failed", err));
}

function listen() {
  const metaBytes = SLOTS * 16;
  meta = new Int32Array(workerData.table, 0, SLOTS * 4);
  times = new Float64Array(workerData.table, metaBytes, SLOTS);
  subjects = new Uint8Array(workerData.table, metaBytes + SLOTS * 8, SLOTS * SUBJECT_BYTES);
  setInterval(scan, SCAN_MS);
  // The parent batches its messages: one array per turn of its event loop.
  parentPort.on("message", (batch) => {
    for (const m of Array.isArray(batch) ? batch : [batch]) handle(m);
  });
  // The parent's side of the channel is gone (its Worker object was terminated or collected).
  parentPort.on("close", () => void shutdown());
  process.on("unhandledRejection", (err) => report("error", "heartbeat thread: unhandled rejection", err));
}

import("node:worker_threads").then((threads) => {
  parentPort = threads.parentPort;
  workerData = threads.workerData;
  listen();
  void open();
});
`;
