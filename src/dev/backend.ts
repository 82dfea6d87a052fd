/**
 * Choosing a backend the way tools and examples do (DESIGN.md §5): `NATS_URL` (or an explicit URL)
 * → that deployment; otherwise an embedded `nats-server` when one is installed; otherwise the
 * in-process memory backend. The choice is said on stderr.
 * @module
 */
import { ensureStreams, type Broker, type StreamOptions } from "../broker/index.js";
import { findNatsServer, requireNatsServer, startNode, type NatsNode } from "../embed/index.js";
import { memoryBroker } from "../memory/index.js";
import { connectNats, redactServers } from "../nats/index.js";

/** A running backend and how to stop it. */
export interface DevBackend {
  readonly broker: Broker;
  /** `"nats"` (an existing deployment), `"embedded"` (a child `nats-server`) or `"memory"` (in process). */
  readonly kind: "nats" | "embedded" | "memory";
  /** Where it runs, for messages: a URL. */
  readonly description: string;
  /** Closes the connection and stops an embedded node; idempotent. */
  close(): Promise<void>;
}

/** Options of {@link openDevBackend}. */
export interface DevBackendOptions {
  /** A NATS URL; default `process.env.NATS_URL` unless {@link ignoreEnv}. */
  readonly url?: string | undefined;
  /** Do not read `NATS_URL` (tests that must run on their own server). @default false */
  readonly ignoreEnv?: boolean | undefined;
  /** Never fall back to the memory backend: fail when there is neither a URL nor `nats-server`. @default false */
  readonly requireNats?: boolean | undefined;
  /** Store directory of an embedded node (kept, so a run can resume); default: a temporary one. */
  readonly storeDir?: string | undefined;
  /** Stream options for `ensureStreams`. */
  readonly streams?: StreamOptions | undefined;
  /** Where the choice is reported. @default process.stderr */
  readonly report?: ((line: string) => void) | undefined;
}

/**
 * Opens the backend and makes sure the task-queue streams exist.
 * @throws EbindError `unavailable` when the URL cannot be reached; `not_found` with `requireNats`
 *   when no URL is given and `nats-server` is not installed (the message says how to install it).
 */
export async function openDevBackend(options: DevBackendOptions = {}): Promise<DevBackend> {
  const report = options.report ?? ((line: string) => process.stderr.write(line + "\n"));
  const url = options.url ?? (options.ignoreEnv ? undefined : process.env.NATS_URL);
  let node: NatsNode | undefined;
  let kind: DevBackend["kind"];
  let servers: string;
  if (url) {
    kind = "nats";
    servers = url;
  } else if (!findNatsServer()) {
    if (options.requireNats) requireNatsServer(); // throws, saying how to install it
    const broker = memoryBroker();
    await ensureStreams(broker, options.streams);
    const description = "in-process memory backend (nats-server not found: install it, or set NATS_URL, for a real JetStream)";
    report(`ebind: backend: ${description}`);
    return { broker, kind: "memory", description, close: () => broker.close() };
  } else {
    node = await startNode(options.storeDir === undefined ? {} : { storeDir: options.storeDir });
    kind = "embedded";
    servers = node.url;
  }
  let broker: Broker;
  try {
    broker = await connectNats({ servers });
    await ensureStreams(broker, options.streams);
  } catch (err) {
    await node?.stop();
    throw err;
  }
  // A NATS_URL may carry a password or token: shown as `***`, as in every other message.
  const description = kind === "embedded" ? `embedded nats-server at ${servers} (store ${node?.storeDir ?? "?"})` : `NATS at ${redactServers(servers.split(","))}`;
  report(`ebind: backend: ${description}`);
  let closing: Promise<void> | undefined;
  return {
    broker,
    kind,
    description,
    close() {
      closing ??= (async () => {
        await broker.close();
        await node?.stop();
      })();
      return closing;
    },
  };
}
