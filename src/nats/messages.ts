/**
 * Reading, deleting and purging stored messages by sequence (the DLQ is read this way).
 * A missing sequence is `null`, not an error (nats-2.9-notes.md §5).
 * @module
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import type { StoredMessage } from "../broker/port.js";
import { apiCode, mapNatsError } from "./errors.js";

const NO_MESSAGE_FOUND = 10037;

/** The message at `seq`, or null. */
export async function getMessage(jsm: JetStreamManager, stream: string, seq: number): Promise<StoredMessage | null> {
  try {
    const msg = await jsm.streams.getMessage(stream, { seq });
    if (!msg) return null;
    const headers = new Map<string, string>();
    if (msg.header) for (const [key, values] of msg.header) if (values[0] !== undefined) headers.set(key, values[0]);
    return { seq: msg.seq, subject: msg.subject, data: msg.data, time: msg.time, headers };
  } catch (err) {
    if (apiCode(err) === NO_MESSAGE_FOUND) return null;
    throw mapNatsError(err, `get ${stream} seq ${seq}`);
  }
}

/** Deletes the message at `seq`; false when there was none. */
export async function deleteMessage(jsm: JetStreamManager, stream: string, seq: number): Promise<boolean> {
  try {
    return await jsm.streams.deleteMessage(stream, seq, false);
  } catch (err) {
    // 2.9 answers a missing sequence with "sequence N not found" (code 10043 here), not 10037.
    if (apiCode(err) === NO_MESSAGE_FOUND || /no message found|sequence \d+ not found/i.test((err as Error).message)) return false;
    throw mapNatsError(err, `delete ${stream} seq ${seq}`);
  }
}

/** Purges the stream (or one subject of it); returns how many messages were removed. */
export async function purgeStream(jsm: JetStreamManager, stream: string, subject?: string): Promise<number> {
  try {
    const res = await jsm.streams.purge(stream, subject === undefined ? undefined : { filter: subject });
    return res.purged;
  } catch (err) {
    throw mapNatsError(err, `purge ${stream}`);
  }
}
