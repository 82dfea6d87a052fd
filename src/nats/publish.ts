/**
 * Publishing into JetStream with a message id, retried through leader elections and reconnects.
 * A retry carries the same `Nats-Msg-Id`, so the stream stores the message once
 * (nats-2.9-notes.md leading items 7 and 11, §7: 4–7 s of unavailability when a stream leader dies).
 * @module
 */
import type { PublishAck, PublishOptions } from "../broker/port.js";
import { EbindError } from "../task/errors.js";
import { isTransient, mapNatsError } from "./errors.js";
import type { PubAckMux } from "./pub-acks.js";

/** Default time to keep retrying a publish that meets no responders or a timeout. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 15_000;
/** Time each publish attempt waits for its acknowledgement. */
const ATTEMPT_TIMEOUT_MS = 5_000;

/**
 * Publishes `data` on `subject`; retries transient failures until `timeoutMs` has passed.
 * @throws EbindError `not_found` when no stream captures the subject (after the retries), `timeout`
 *   or `unavailable` when the server never acknowledged, `payload_too_large` when it was refused for size.
 */
export async function publish(
  acks: PubAckMux,
  subject: string,
  data: Uint8Array,
  options: PublishOptions = {},
  maxPayloadBytes = Infinity,
): Promise<PublishAck> {
  if (data.length > maxPayloadBytes) {
    throw new EbindError(
      "payload_too_large",
      `publish ${subject}: message of ${data.length} bytes exceeds the server's max payload of ${maxPayloadBytes} bytes`,
    );
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new EbindError("invalid_argument", `publish ${subject}: timeoutMs must be a positive number of ms, got ${String(timeoutMs)}`);
  }
  const deadline = Date.now() + timeoutMs;
  let pause = 50;
  for (;;) {
    const remaining = deadline - Date.now();
    try {
      return await acks.publish(subject, data, options.msgId, Math.max(250, Math.min(ATTEMPT_TIMEOUT_MS, remaining)), options.headers);
    } catch (err) {
      if (!isTransient(err) || Date.now() + pause >= deadline) {
        const mapped = mapNatsError(err, `publish ${subject}`);
        if (mapped.code === "unavailable" && /no responders|not enabled/i.test(`${mapped.message}`)) {
          throw new EbindError("not_found", `${mapped.message} (is there a stream for this subject? call ensureStreams first)`, { cause: err });
        }
        throw mapped;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 1000);
    }
  }
}
