/**
 * The backstop for durables with a server-side max deliver (one created by ebind for Go, or by an
 * older version of this worker): when the delivery that reaches it is never settled (its worker
 * died), the server stops redelivering and the message would stay in the work-queue stream for
 * ever. The server announces it with an advisory; one worker (a queue group) reads the message by
 * its sequence and dead-letters it with kind `max_deliver` and its bytes, then deletes it. Our own
 * durables have no server max deliver (the worker counts attempts), so this never fires for them.
 * @module
 */
import { taskFields, type Logger } from "../broker/logger.js";
import type { Broker, Delivery, StoredMessage } from "../broker/port.js";
import { TASK_STREAM } from "../broker/topology.js";
import { ErrKind, TaskError } from "../task/errors.js";
import { admit, type AdmissionContext } from "./admission.js";
import type { Settler } from "./settle.js";

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

/** What {@link deadLetterExhausted} needs of the worker. */
export interface ExhaustedContext {
  readonly broker: Broker;
  readonly settler: Settler;
  readonly admission: AdmissionContext;
  readonly logger: Logger;
}

/**
 * Dead-letters the message at `seq` of the task stream, which the server stopped redelivering after
 * `deliveries` deliveries (its last was never settled): kind `max_deliver` with its bytes (kind
 * `decode` when it is no task at all), then deletes it. A message already gone is left alone.
 * Never throws: a failure is logged, and the message stays in the stream.
 */
export async function deadLetterExhausted(seq: number, deliveries: number, ctx: ExhaustedContext): Promise<void> {
  try {
    const msg = await ctx.broker.getMessage(TASK_STREAM, seq);
    if (!msg) return; // settled after all
    const delivery = exhaustedDelivery(ctx.broker, msg, deliveries);
    const verdict = admit(delivery, ctx.admission);
    if (verdict.action === "invalid") {
      await ctx.settler.deadLetterInvalid(delivery, verdict.reason, verdict.task);
      return;
    }
    const error = new TaskError(
      ErrKind.MaxDeliver,
      `the server stopped redelivering after ${deliveries} deliveries (the consumer's max deliver); the last was never settled (its worker stopped)`,
      { retryable: false },
    );
    await ctx.settler.fail(delivery, verdict.task, error);
    ctx.logger.warn(taskFields(verdict.task, { seq }), "worker: dead-lettered a task the server stopped redelivering (max deliver reached)");
  } catch (err) {
    ctx.logger.error({ seq, error: (err as Error).message }, "worker: could not dead-letter a task that reached the consumer's max deliver; it stays in the stream");
  }
}
