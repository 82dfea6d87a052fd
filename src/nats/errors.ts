/**
 * Maps errors of the official NATS client to {@link EbindError} at the boundary, keeping the
 * original as `cause` (STYLE 8). Codes: 10059 stream not found, 10014 consumer not found,
 * 10071 wrong last sequence (a KV compare-and-set conflict); no responders and timeouts mean the
 * server (or the stream's leader) is unavailable. See nats-2.9-notes.md leading item 11.
 * @module
 */
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { errors as coreErrors } from "@nats-io/transport-node";
import { EbindError } from "../task/errors.js";

/**
 * API codes for a stream or consumer configuration the server refuses: retrying cannot help.
 * 10065 subjects overlap another stream; 10052 invalid stream config (e.g. a duplicate window over
 * the max age); 10093 filter outside the stream's subjects; 10101 work queue needs deliver all;
 * 10099 second unfiltered work-queue consumer; 10100 overlapping work-queue filters.
 */
const CONFIG_REFUSED: ReadonlySet<number> = new Set([10052, 10065, 10093, 10099, 10100, 10101]);

/** True for errors worth retrying after a pause: no responders (leader election) and timeouts. */
export function isTransient(err: unknown): boolean {
  return causeChain(err).some(
    (e) =>
      e instanceof coreErrors.NoRespondersError ||
      e instanceof coreErrors.TimeoutError ||
      e instanceof coreErrors.RequestError ||
      // The client reports no responders during a leader election as JetStreamNotEnabled (notes item 11).
      e.name === "JetStreamNotEnabled",
  );
}

/** The JetStream API error code, if `err` is (or wraps) one. */
export function apiCode(err: unknown): number | undefined {
  const api = causeChain(err).find((e) => e instanceof JetStreamApiError);
  return api instanceof JetStreamApiError ? api.code : undefined;
}

/** Converts a NATS client error into an {@link EbindError} whose message starts with `context`. */
export function mapNatsError(err: unknown, context: string): EbindError {
  if (err instanceof EbindError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = apiCode(err);
  if (code === JetStreamApiCodes.StreamNotFound || code === JetStreamApiCodes.ConsumerNotFound) {
    return new EbindError("not_found", `${context}: ${message}`, { cause: err });
  }
  if (code === JetStreamApiCodes.StreamWrongLastSequence) {
    return new EbindError("conflict", `${context}: ${message}`, { cause: err });
  }
  if (code !== undefined && CONFIG_REFUSED.has(code)) {
    return new EbindError("invalid_argument", `${context}: ${message}`, { cause: err });
  }
  // Refusals no retry can change, whatever their code (some come from the client, without one).
  if (/maximum payload|max_payload|message size exceeds|payload too large/i.test(message)) {
    return new EbindError("payload_too_large", `${context}: ${message}`, { cause: err });
  }
  if (/expected stream does not match|consumer name is too long|durable name|invalid (consumer|durable|stream) name/i.test(message)) {
    return new EbindError("invalid_argument", `${context}: ${message}`, { cause: err });
  }
  if (hasCause(err, coreErrors.ClosedConnectionError)) {
    return new EbindError("closed", `${context}: connection closed`, { cause: err });
  }
  if (hasCause(err, coreErrors.TimeoutError)) {
    return new EbindError("timeout", `${context}: ${message}`, { cause: err });
  }
  if (isTransient(err)) {
    const cause: unknown = err instanceof Error ? err.cause : undefined;
    const detail = cause instanceof Error ? `${message} (${cause.message})` : message;
    return new EbindError("unavailable", `${context}: ${detail}`, { cause: err });
  }
  return new EbindError("unavailable", `${context}: ${message}`, { cause: err });
}

function hasCause(err: unknown, type: abstract new (...args: never[]) => Error): boolean {
  return causeChain(err).some((e) => e instanceof type);
}

/** `err`, its cause, its cause's cause…, stopping at a non-Error or a loop. */
function causeChain(err: unknown): Error[] {
  const chain: Error[] = [];
  for (let e: unknown = err; e instanceof Error && !chain.includes(e); e = (e).cause) chain.push(e);
  return chain;
}
