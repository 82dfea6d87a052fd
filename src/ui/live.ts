/**
 * The dashboard's live events: server-sent events fanned out to every open page from ONE
 * `workflow.watch()` (decoded changes of every DAG's records) and one follower of the DLQ. Nothing
 * is polled: pages refetch what an event says changed.
 *
 * Events (`event:` name, `data:` JSON):
 * - `hello` `{ }` — sent on connect once the watch is established: a change after it is delivered,
 *   so a page opens the stream first, then loads the state;
 * - `dag` — a {@link DagChange}, step records cut down to what the graph shows;
 * - `dlq` `{ reason }` — the DLQ changed (`added`, `removed`, or `changed` after a dashboard action);
 * - `down` `{ message }` — the watch broke; it is restarted after {@link WATCH_RESTART_MS}.
 * @module
 */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Subscription } from "@nats-io/transport-node";
import { DLQ_PREFIX, DLQ_STREAM, type Broker, type Logger } from "../broker/index.js";
import { NatsBroker } from "../nats/index.js";
import type { DagChange, Workflow } from "../workflow/index.js";
import { SECURITY_HEADERS } from "./security.js";

/** Wait before restarting a watch that failed, in ms. */
export const WATCH_RESTART_MS = 1_000;
/** A comment line is sent this often so proxies and browsers keep an idle stream open, in ms. */
export const KEEPALIVE_MS = 15_000;
/** Bytes queued for one page past which it is disconnected (it stopped reading). */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Pull expiry of the DLQ follower on backends without core subscriptions, in ms. */
const DLQ_PULL_EXPIRES_MS = 5_000;

/** What a page gets of a change: step records without their arguments (fetched on demand). */
function slim(change: DagChange): unknown {
  if (change.type !== "step" || change.step === null) return change;
  const { argsJson: _args, ...rest } = change.step;
  return { ...change, step: rest };
}

/** The fan-out of live events to pages. Start it with {@link start}; {@link close} is idempotent. */
export class LiveFeed {
  readonly #workflow: Workflow;
  readonly #broker: Broker;
  readonly #logger: Logger;
  readonly #clients = new Set<ServerResponse>();
  readonly #stop = new AbortController();
  readonly #subs: Subscription[] = [];
  #keepalive: NodeJS.Timeout | undefined;
  #dlqDurable: string | undefined;
  #ready: Promise<void> | undefined;
  #loops: Promise<void>[] = [];

  constructor(workflow: Workflow, broker: Broker, logger: Logger) {
    this.#workflow = workflow;
    this.#broker = broker;
    this.#logger = logger;
  }

  /** Starts the watch and the DLQ follower; resolves once the watch is established. */
  start(): Promise<void> {
    this.#ready ??= new Promise<void>((resolve) => {
      this.#loops.push(this.#watchLoop(resolve));
    });
    this.#followDlq();
    this.#keepalive = setInterval(() => this.#write(": keepalive\n\n"), KEEPALIVE_MS);
    this.#keepalive.unref();
    return this.#ready;
  }

  /** Number of pages connected (for tests and logs). */
  get clients(): number {
    return this.#clients.size;
  }

  /** Turns a response into an event stream for one page. */
  attach(res: ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    this.#clients.add(res);
    res.on("close", () => this.#clients.delete(res));
    void this.#ready?.then(() => {
      if (!res.writableEnded) res.write(`event: hello\ndata: {}\n\n`);
    });
  }

  /** Tells every page the DLQ changed (after a dashboard action, or from the follower). */
  dlqChanged(reason = "changed"): void {
    this.#send("dlq", { reason });
  }

  #send(event: string, data: unknown): void {
    this.#write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  #write(text: string): void {
    for (const res of this.#clients) {
      if (res.writableEnded) continue;
      // A page that stopped reading is dropped rather than buffered without bound; it reconnects.
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.#clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }

  async #watchLoop(ready: () => void): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        for await (const change of this.#workflow.watch({ include: "updates", signal: this.#stop.signal, onCaughtUp: ready })) {
          this.#send("dag", slim(change));
        }
      } catch (err) {
        if (this.#stop.signal.aborted) return;
        this.#logger.warn({ error: (err as Error).message }, "dashboard: workflow watch failed; restarting");
        this.#send("down", { message: (err as Error).message });
      }
      if (this.#stop.signal.aborted) return;
      await new Promise((r) => setTimeout(r, WATCH_RESTART_MS).unref());
    }
  }

  /**
   * On NATS: core subscriptions to the DLQ's subjects (new entries) and to the JetStream API
   * requests that delete or purge its messages (removals by anyone, e.g. `ebctl`): no server state.
   * Elsewhere: a durable consumer delivering new entries only, deleted on close (and by the server
   * after a minute without pulls); removals are seen only when made from this dashboard.
   */
  #followDlq(): void {
    const broker = this.#broker;
    if (broker instanceof NatsBroker) {
      const nc = broker.connection;
      this.#subs.push(nc.subscribe(`${DLQ_PREFIX}>`, { callback: () => this.dlqChanged("added") }));
      for (const api of ["MSG.DELETE", "PURGE"]) {
        this.#subs.push(nc.subscribe(`$JS.API.STREAM.${api}.${DLQ_STREAM}`, { callback: () => this.dlqChanged("removed") }));
      }
      return;
    }
    const durable = `ebind-ui-${randomBytes(6).toString("hex")}`;
    this.#dlqDurable = durable;
    this.#loops.push(this.#pullDlq(durable));
  }

  async #pullDlq(durable: string): Promise<void> {
    const signal = this.#stop.signal;
    try {
      await this.#broker.ensureConsumer(DLQ_STREAM, { durable, filterSubject: "", ackWaitMs: 30_000, maxDeliver: 1, deliverPolicy: "new", inactiveThresholdMs: 60_000 });
      while (!signal.aborted) {
        for await (const d of this.#broker.pull(DLQ_STREAM, durable, { max: 100, expiresMs: DLQ_PULL_EXPIRES_MS, signal })) {
          d.ack();
          this.dlqChanged("added");
        }
      }
    } catch (err) {
      if (!signal.aborted) this.#logger.warn({ error: (err as Error).message }, "dashboard: cannot follow the DLQ; its list refreshes after dashboard actions only");
    }
  }

  /** Ends every stream and stops watching. Idempotent. */
  async close(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    clearInterval(this.#keepalive);
    for (const s of this.#subs) s.unsubscribe();
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    await Promise.allSettled(this.#loops);
    if (this.#dlqDurable !== undefined) await this.#broker.deleteConsumer(DLQ_STREAM, this.#dlqDurable).catch(() => false);
  }
}
