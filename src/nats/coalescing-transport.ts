/**
 * Fewer socket writes for the same bytes: the client's transport, with every write issued during one
 * turn of the event loop (the promise continuations a socket read sets off, a burst of publishes)
 * sent to the kernel as one.
 *
 * The client queues outgoing protocol lines and flushes them on the next microtask, so only commands
 * issued in one synchronous burst share a write. Our engine issues its next request after an
 * `await` several promise hops deep, which lands after that flush: in the workflow benchmark
 * (scenario 5) the worker process spent about a fifth of its CPU in `writeBuffer`, one loopback
 * write per request. Here the socket is corked at the first write of a turn and uncorked on
 * `process.nextTick`, which runs once the microtask queue is empty: the same bytes, in the same
 * order, in one `writev`, with no timer and no added latency beyond the turn itself.
 *
 * The transport is the client's own `NodeTransport` (TLS, TLS-first, reconnects unchanged); only
 * `send` is wrapped, and `connect`, which hands the open socket to the connect's
 * {@link ConnectWatch} (connect-watch.ts: a first connect the server refuses fails at once, with its
 * reason). It is installed through the client's documented transport factory hook
 * (`setTransportFactory`, exported by `@nats-io/nats-core/internal` and re-exported by
 * `@nats-io/transport-node`), for the connections {@link connectNats} opens.
 * @module
 */
import { errors, hasWsProtocol, NatsConnectionImpl, ProtocolHandler, setTransportFactory, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
// The transport class is not re-exported by the package's entry point; the package has no exports
// map, so its module is importable by path (pinned with the client's version in package.json).
import { NodeTransport, nodeResolveHost } from "@nats-io/transport-node/lib/node_transport.js";
import { CONNECT_WATCH_KEY, ConnectRefusedError, ConnectWatch, watchOf } from "./connect-watch.js";

/** The client's Node transport with the writes of one event-loop turn coalesced. */
class CoalescingTransport extends NodeTransport {
  #corked = false;

  /** Hands the open socket to the connect's {@link ConnectWatch}, if the options carry one. */
  override async connect(hp: Parameters<NodeTransport["connect"]>[0], options: ConnectionOptions): Promise<void> {
    await super.connect(hp, options);
    watchOf(options)?.attach(this, `${hp.hostname}:${hp.port}`);
  }

  override send(frame: Uint8Array): void {
    const socket = this.socket;
    if (!this.#corked && socket !== undefined && !socket.destroyed) {
      this.#corked = true;
      socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        socket.uncork();
      });
    }
    super.send(frame);
  }
}

/**
 * Connects with the coalescing transport. Same options and result as the client's `connect` from
 * `@nats-io/transport-node` (which installs the plain transport instead); a first connect the
 * server refuses in a way the client would only report as `timeout` fails sooner and with the
 * server's reason (see connect-watch.ts).
 * @throws as the client's `connect`; or {@link ConnectRefusedError} with the server's `-ERR` text or
 *   the socket's (TLS) error, when one server was given and it refused; with several, a `timeout`
 *   becomes a {@link ConnectRefusedError} listing what each server said.
 */
export async function connectCoalescing(options: ConnectionOptions): Promise<NatsConnection> {
  if (hasWsProtocol(options)) {
    throw errors.InvalidArgumentError.format("servers", "websocket URLs need the client's wsconnect, not a Node socket");
  }
  setTransportFactory({ factory: () => new CoalescingTransport(), dnsResolveFn: nodeResolveHost });
  const servers = options.servers === undefined ? [] : typeof options.servers === "string" ? [options.servers] : options.servers;
  const watch = new ConnectWatch(servers.length === 1);
  // What NatsConnectionImpl.connect does (client 3.4.0), keeping the protocol handler: closing it is
  // the only way to end the client's attempt early, whose connect timer would otherwise keep the
  // process alive until the timeout after we have failed.
  const nc = new (NatsConnectionImpl as unknown as new (o: ConnectionOptions) => NatsConnectionImpl)({ ...options, [CONNECT_WATCH_KEY]: watch } as ConnectionOptions);
  const protocol = new ProtocolHandler(nc.options, nc);
  const connecting = protocol.dialLoop().then((): NatsConnection => {
    nc.protocol = protocol;
    return nc;
  });
  try {
    return await Promise.race([connecting, watch.failed]);
  } catch (err) {
    if (err === watch.error) {
      await protocol.close(watch.error).catch(() => undefined);
      await connecting.catch(() => undefined);
    }
    // Whatever the client's own attempt still ends with is dropped.
    connecting.then((c) => c.close(), () => undefined).catch(() => undefined);
    if (err instanceof errors.TimeoutError && watch.reasons.length > 0) {
      throw new ConnectRefusedError(`timeout (${watch.reasons.join("; ")})`, { cause: err });
    }
    throw err;
  } finally {
    watch.settle();
  }
}
