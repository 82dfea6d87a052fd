/**
 * Reading the workflow event stream `EBIND_DAG_EVENTS` itself, for tests that count the events a
 * DAG published (with no scheduler consuming them, the stream keeps them).
 * @module
 */
import type { Broker } from "../../src/broker/index.js";

/** The workflow event stream, by its wire name. */
export const EVENTS_STREAM = "EBIND_DAG_EVENTS";

/** One message of the event stream: its sequence, subject and JSON body. */
export interface StreamEvent {
  readonly seq: number;
  readonly subject: string;
  readonly body: Record<string, unknown>;
}

/** Every event of `dagId` the stream holds now, in order. */
export async function streamEvents(broker: Broker, dagId: string): Promise<StreamEvent[]> {
  const state = await broker.streamState(EVENTS_STREAM);
  const out: StreamEvent[] = [];
  if (!state || state.messages === 0) return out;
  for (let seq = state.firstSeq; seq <= state.lastSeq; seq++) {
    const msg = await broker.getMessage(EVENTS_STREAM, seq);
    if (!msg || !msg.subject.startsWith(`DAG.${dagId}.`)) continue;
    out.push({ seq, subject: msg.subject, body: JSON.parse(new TextDecoder().decode(msg.data)) as Record<string, unknown> });
  }
  return out;
}
