/**
 * Publishing a task's terminal outcome: the response to `reply_to` (reference §2.6.3) and the
 * dead-letter entry on `DLQ.<name>` (§2.6.5). Failures are thrown so the caller can nak and try
 * again instead of losing the outcome (DESIGN.md §4; reference §8.3 item 9).
 * @module
 */
import type { Broker } from "../broker/port.js";
import { dlqSubject, RESPONSE_PREFIX } from "../broker/topology.js";
import { encodeDlqEntry, encodeResponse } from "../task/codec.js";
import type { RawMessage, Task } from "../task/envelope.js";
import type { TaskError } from "../task/errors.js";

const utf8 = new TextEncoder();

/**
 * The message id of a task's terminal record: one per task run (a requeue starts a new run with a
 * new `enqueued_at`; a hand-back or a park keeps it). A second terminal record of the same run
 * inside the stream's duplicate window — a stale attempt finishing after another settled the task —
 * is then dropped by the server and reported as a duplicate.
 */
export function terminalMsgId(kind: "resp" | "dlq", task: Task): string {
  return `ebind-${kind}:${task.id}:${task.enqueuedAt.getTime()}`;
}

/** What a publish of a terminal record did. */
export type Recorded = "recorded" | "duplicate" | "not_due";

/**
 * Sends the response when the task wants one. A `reply_to` outside `RESP.` is ignored (a malformed
 * envelope must not make a worker publish into another stream).
 * @returns `not_due` when no response was due, `duplicate` when this run's response was stored already.
 */
export async function publishResponse(
  broker: Broker,
  task: Task,
  attempts: number,
  outcome: { result?: string | undefined; error?: TaskError | undefined },
): Promise<Recorded> {
  if (!task.replyTo || !task.replyTo.startsWith(RESPONSE_PREFIX)) return "not_due";
  const body = encodeResponse({
    taskId: task.id,
    result: outcome.result,
    error: outcome.error?.toData(),
    attempts,
    completedAt: new Date(),
  });
  const ack = await broker.publish(task.replyTo, utf8.encode(body), { msgId: terminalMsgId("resp", task) });
  return ack.duplicate ? "duplicate" : "recorded";
}

/**
 * Publishes the DLQ entry for `task` (as delivered, with its final attempt) on `DLQ.<name>`, with
 * the message's original bytes when given (`raw`, for a message that could not run as a task).
 * Returns whether it was stored (or was this run's duplicate) and its sequence in the DLQ stream.
 */
export async function publishDeadLetter(
  broker: Broker,
  task: Task,
  error: TaskError,
  name: string = task.name,
  raw?: RawMessage,
): Promise<{ recorded: Recorded; seq: number | undefined }> {
  const body = encodeDlqEntry({ task, error: error.toData(), finalAttempt: task.attempt, deadLetteredAt: new Date(), raw });
  const ack = await broker.publish(dlqSubject(name), utf8.encode(body), { msgId: raw ? undefined : terminalMsgId("dlq", task) });
  return ack.duplicate ? { recorded: "duplicate", seq: undefined } : { recorded: "recorded", seq: ack.seq };
}
