/**
 * Why a first connect failed, and failing it at once.
 *
 * The client rejects its `connect` at once only for an authorization error. When the server
 * answers the CONNECT with another `-ERR` and closes (`maximum account active connections
 * exceeded`, `maximum subscriptions exceeded`…), or a TLS server refuses the client's certificate
 * after the client's side of the handshake is done (TLS 1.3 sends that alert later: a missing or
 * untrusted client certificate under `verify: true`), the client waits for its connect timeout and
 * rejects with a bare `timeout`, the reason lost. A {@link ConnectWatch} is handed to the transports
 * of one connect (inside the client's options, which the client copies key by key) and learns from
 * them what the server said or how the socket ended; with a single server it fails the connect
 * right then, with that reason; with several, the client moves on to the next as usual, and a final
 * timeout is replaced by the reasons each server gave.
 * @module
 */
import type { ConnectionOptions } from "@nats-io/transport-node";

/** The key under which a {@link ConnectWatch} travels inside the client's connection options. */
export const CONNECT_WATCH_KEY = "ebindConnectWatch";

/** A server's refusal of a connect (its `-ERR` text, a TLS alert, or a closed socket). */
export class ConnectRefusedError extends Error {
  override readonly name = "ConnectRefusedError";
}

const ERR_LINE = /-ERR '([^'\r\n]*)'\r?\n/;
/** Bytes of early server output kept while looking for an `-ERR` line. */
const MAX_SCAN_CHARS = 4096;

/** The socket-level surface of a transport the watch needs. */
export interface WatchedTransport {
  /** Bytes read but not yet handed to the client's parser (the client's transport keeps what came with INFO here). */
  readonly yields?: readonly Uint8Array[] | undefined;
  readonly socket?: { on(event: "data", fn: (chunk: Uint8Array) => void): unknown; off(event: "data", fn: (chunk: Uint8Array) => void): unknown } | undefined;
  closed(): Promise<void | Error>;
}

/**
 * Watches the transports of one connect until {@link settle} is called (the connect resolved or
 * rejected). With `failFast`, {@link failed} rejects with the first refusal a transport reports.
 */
export class ConnectWatch {
  /** Rejects with the first refusal (fail-fast watches only); never resolves. */
  readonly failed: Promise<never>;
  /** The error {@link failed} rejected with, once it did. */
  error: ConnectRefusedError | undefined;
  #settled = false;
  readonly #reasons: string[] = [];
  readonly #cleanups: Array<() => void> = [];
  #reject!: (err: Error) => void;

  /** @param failFast reject {@link failed} on the first refusal (one server: nothing else to try). */
  constructor(private readonly failFast: boolean) {
    this.failed = new Promise<never>((_resolve, reject) => (this.#reject = reject));
    this.failed.catch(() => undefined);
  }

  /** The reasons seen so far, `host:port: reason` each. */
  get reasons(): readonly string[] {
    return this.#reasons;
  }

  /** Stops watching: later closes and errors are the connection's own business. */
  settle(): void {
    this.#settled = true;
    for (const c of this.#cleanups.splice(0)) c();
  }

  /**
   * Called by a transport once its socket is open (TLS done, INFO read): reads its first bytes for
   * an `-ERR` line and its close for the socket's error, until {@link settle}.
   * @param server `host:port`, for the reason's text.
   */
  attach(transport: WatchedTransport, server: string): void {
    if (this.#settled) return;
    let text = "";
    let serverSaid: string | undefined;
    const socket = transport.socket;
    const onData = (chunk: Uint8Array): void => {
      if (serverSaid !== undefined || text.length > MAX_SCAN_CHARS) return;
      text += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
      const m = ERR_LINE.exec(text);
      if (m) {
        serverSaid = m[1]!;
        this.#report(server, serverSaid);
      }
    };
    // A server that refuses at once sends its -ERR with its INFO: those bytes are already read.
    for (const chunk of transport.yields ?? []) onData(chunk);
    if (socket !== undefined) {
      socket.on("data", onData);
      this.#cleanups.push(() => socket.off("data", onData));
    }
    void transport.closed().then((err) => {
      if (serverSaid !== undefined) return;
      this.#report(server, err instanceof Error ? describeConnectError(err) : "the server closed the connection");
    });
  }

  #report(server: string, reason: string): void {
    if (this.#settled) return;
    this.#reasons.push(`${server}: ${reason}`);
    if (this.failFast && this.error === undefined) {
      this.error = new ConnectRefusedError(reason);
      this.#reject(this.error);
    }
  }
}

/** Node's codes for a server certificate the client could not verify (tls.connect's `code`). */
const UNTRUSTED_SERVER_CERT = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE)$/;

/**
 * A connect failure's text, for people: TLS failures start with `TLS:` and say which side refused
 * (OpenSSL's multi-line text reduced to its reason); anything else is the error's message.
 */
export function describeConnectError(err: Error): string {
  const e = err as NodeJS.ErrnoException & { reason?: unknown };
  const code = e.code ?? "";
  if (UNTRUSTED_SERVER_CERT.test(code)) return `TLS: ${err.message} (the server's certificate is not signed by a CA the client trusts)`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `TLS: ${err.message}`;
  if (code.startsWith("ERR_SSL_")) {
    const reason = typeof e.reason === "string" ? e.reason : err.message.split("\n")[0]!;
    const refused = /alert (bad certificate|certificate required|unknown ca|certificate unknown)/i.test(reason);
    return refused ? `TLS: the server refused the client certificate, missing or not signed by a CA it trusts (${reason})` : `TLS: ${reason}`;
  }
  return err.message;
}

/** The watch in `options` (as the client copied them), if any. */
export function watchOf(options: ConnectionOptions | undefined): ConnectWatch | undefined {
  const w = (options as Record<string, unknown> | undefined)?.[CONNECT_WATCH_KEY];
  return w instanceof ConnectWatch ? w : undefined;
}
