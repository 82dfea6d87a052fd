/**
 * The workflow event queue: stream `EBIND_DAG_EVENTS` (work queue, `DAG.>`, 24 h) consumed through
 * the durable `ebind-scheduler` shared by every scheduler (reference §1.7.3, §2.2–2.4).
 * @module
 */
import type { Broker, ConsumerSpec, StreamSpec } from "../../broker/port.js";
import { b64url } from "../../task/names.js";
import { encodeDagEvent } from "../model/codec.js";
import type { DagEvent } from "../model/records.js";

/** The event stream. */
export const DAG_EVENTS_STREAM = "EBIND_DAG_EVENTS";
/** The durable every scheduler consumes events with. */
export const SCHEDULER_DURABLE = "ebind-scheduler";

/** The event stream's configuration. */
export function eventStreamSpec(replicas: number): StreamSpec {
  return { name: DAG_EVENTS_STREAM, subjects: ["DAG.>"], retention: "workqueue", maxAgeMs: 24 * 3600_000, replicas };
}

/**
 * The scheduler's durable. Its ack wait is short (ebind for Go's is 30 s) because schedulers report
 * the events they hold in progress (run/held-events.ts): a dead scheduler's events are redelivered
 * after 5 s.
 */
export function schedulerConsumerSpec(ackWaitMs: number): ConsumerSpec {
  return { durable: SCHEDULER_DURABLE, filterSubject: "DAG.>", ackWaitMs, maxDeliver: -1 };
}

/** `DAG.<dag>.<kind>.<token>`: the step id, or b64url(name) for signals (reference §2.4). */
export function eventSubject(event: DagEvent): string {
  const token = event.kind === "signal" && event.signalName !== undefined ? b64url(event.signalName) : event.stepId;
  return `DAG.${event.dagId}.${event.kind}.${token}`;
}

const utf8 = new TextEncoder();

/** Publishes one event (no message id: duplicates are harmless, reference §2.8). */
export async function publishEvent(broker: Broker, event: DagEvent): Promise<void> {
  await broker.publish(eventSubject(event), utf8.encode(encodeDagEvent(event)));
}
