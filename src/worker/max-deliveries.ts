/**
 * The backstop for durables with a server-side max deliver (one created by ebind for Go, or by an
 * older version of this worker): when the delivery that reaches it is never settled (its worker
 * died), the server stops redelivering and the message would stay in the work-queue stream for
 * ever. The server announces it with an advisory; one worker (a queue group) reads the message by
 * its sequence and dead-letters it with kind `max_deliver` and its bytes, then deletes it. Our own
 * durables have no server max deliver (the worker counts attempts), so this never fires for them.
 * @module
 */
import type { Broker, Delivery, StoredMessage } from "../broker/port.js";
import { TASK_STREAM } from "../broker/topology.js";

/** The queue group of the workers listening for max-deliveries advisories. */
export const MAX_DELIVERIES_GROUP = "ebind-max-deliveries";

/**
 * A stored message seen as its last delivery: settling it (ack or term) deletes it from the task
 * stream; nak and in-progress do nothing (no consumer will deliver it again).
 */
export function exhaustedDelivery(broker: Broker, msg: StoredMessage, deliveries: number): Delivery {
  let settled = false;
  const remove = (): void => {
    if (settled) return;
    settled = true;
    void broker.deleteMessage(TASK_STREAM, msg.seq).catch(() => undefined);
  };
  return {
    subject: msg.subject,
    data: msg.data,
    deliveryCount: deliveries,
    streamSeq: msg.seq,
    msgId: msg.headers.get("Nats-Msg-Id"),
    storedAtMs: msg.time.getTime(),
    header: (name) => msg.headers.get(name) || undefined,
    ack: remove,
    term: remove,
    nak: () => undefined,
    working: () => undefined,
  };
}
