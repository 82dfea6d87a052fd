/**
 * Giving a delivery back to the queue without spending an attempt (DESIGN.md §4: a delivery handed
 * back without running its handler is not an attempt). A nak would do it in one message, but the
 * server counts every nak as a delivery, and the worker counts attempts from deliveries. So the
 * message is published again — same subject, same bytes — with `Ebind-Prior-Attempts` raised to the
 * deliveries that did run it and `Ebind-Stored-At` keeping when it was first stored (its deadline
 * is measured from then), and only then acked. A crash between the two leaves both copies: the
 * task may run twice, never zero times (at-least-once, as everywhere else).
 * @module
 */
import type { Broker, Delivery } from "../broker/port.js";
import { carriedHeaders, RESUMED_REVISION_HEADER } from "../broker/parking.js";

/**
 * Publishes the delivery's message again and acks it. The message id `handback:<stream seq>` makes a
 * repeated hand-back of the same message (after a lost publish acknowledgement) store it once.
 * @throws the backend's error when the publish fails; the delivery is then left unsettled.
 */
export async function handBack(broker: Broker, delivery: Delivery): Promise<void> {
  const headers = carriedHeaders(delivery);
  const resumed = delivery.header(RESUMED_REVISION_HEADER);
  if (resumed !== undefined) headers[RESUMED_REVISION_HEADER] = resumed;
  await broker.publish(delivery.subject, delivery.data, { msgId: `handback:${delivery.streamSeq}`, headers });
  delivery.ack();
}
