/**
 * JetStream's max-deliveries advisory (nats-2.9-notes: a message whose deliveries reach the
 * consumer's max deliver stays in a work-queue stream for ever, and the server says so only by this
 * advisory). Subscribed in a queue group, so of the workers listening exactly one handles each.
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";

/** Listens for max-deliveries advisories of one durable; returns the function that stops listening. */
export function onMaxDeliveries(connection: NatsConnection, stream: string, durable: string, group: string, onMessage: (streamSeq: number) => void): () => void {
  const subject = `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${durable}`;
  const sub = connection.subscribe(subject, {
    queue: group,
    callback: (err, msg) => {
      if (err) return; // the subscription ends with the connection
      let seq: unknown;
      try {
        seq = (JSON.parse(new TextDecoder().decode(msg.data)) as { stream_seq?: unknown }).stream_seq;
      } catch {
        return; // not an advisory we can read: nothing to act on
      }
      if (typeof seq === "number" && Number.isSafeInteger(seq) && seq > 0) onMessage(seq);
    },
  });
  return () => sub.unsubscribe();
}
