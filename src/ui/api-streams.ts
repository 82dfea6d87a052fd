/**
 * The dashboard route over JetStream streams and consumers with their counts. On a NATS broker the
 * server is asked through `jetstreamManager` on the broker's connection (every stream of the
 * account); on another backend the engine's own streams are read with `broker.streamState`
 * (messages and consumer counts only). Never connection options or credentials: only names and counts.
 * @module
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { DLQ_STREAM, PARKED_STREAM, RESPONSE_STREAM, TASK_STREAM, type Broker } from "../broker/index.js";
import { NatsBroker } from "../nats/index.js";
import { DAG_BUCKET, DAG_EVENTS_STREAM } from "../workflow/index.js";
import type { Route } from "./routes.js";

/** One consumer's counts. */
export interface ConsumerView {
  readonly name: string;
  /** Messages matching its filter not yet delivered. */
  readonly pending: number;
  /** Delivered, not yet acknowledged. */
  readonly ackPending: number;
  readonly redelivered: number;
  /** Pull requests waiting. */
  readonly waiting: number;
  readonly filterSubject: string;
}

/** One stream's counts; `consumers` lists them when the backend can. */
export interface StreamView {
  readonly name: string;
  readonly messages: number;
  readonly bytes: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly consumerCount: number;
  readonly consumers?: ConsumerView[] | undefined;
}

async function natsStreams(broker: NatsBroker): Promise<StreamView[]> {
  const jsm = await jetstreamManager(broker.connection);
  const out: StreamView[] = [];
  for await (const si of jsm.streams.list()) {
    const consumers: ConsumerView[] = [];
    for await (const ci of jsm.consumers.list(si.config.name)) {
      consumers.push({
        name: ci.name,
        pending: ci.num_pending,
        ackPending: ci.num_ack_pending,
        redelivered: ci.num_redelivered,
        waiting: ci.num_waiting,
        filterSubject: ci.config.filter_subject ?? "",
      });
    }
    const s = si.state;
    out.push({ name: si.config.name, messages: s.messages, bytes: s.bytes, firstSeq: s.first_seq, lastSeq: s.last_seq, consumerCount: s.consumer_count, consumers });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The engine's streams, for a backend without a stream listing. */
const KNOWN_STREAMS = [TASK_STREAM, RESPONSE_STREAM, DLQ_STREAM, PARKED_STREAM, DAG_EVENTS_STREAM, `KV_${DAG_BUCKET}`];

async function portStreams(broker: Broker): Promise<StreamView[]> {
  const states = await Promise.all(KNOWN_STREAMS.map((n) => broker.streamState(n)));
  return states
    .filter((s) => s !== null)
    .map((s) => ({ name: s.name, messages: s.messages, bytes: s.bytes, firstSeq: s.firstSeq, lastSeq: s.lastSeq, consumerCount: s.consumers }));
}

/** The stream route. */
export const streamRoutes: readonly Route[] = [
  {
    method: "GET",
    path: "/api/streams",
    mutating: false,
    handle: async (ctx) => ({
      body: { backend: ctx.broker.kind, streams: ctx.broker instanceof NatsBroker ? await natsStreams(ctx.broker) : await portStreams(ctx.broker) },
    }),
  },
];
