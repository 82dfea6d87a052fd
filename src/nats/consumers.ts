/**
 * Durable pull consumers on JetStream: create or update from a {@link ConsumerSpec}.
 * Explicit ack always (nats-2.9-notes.md §1: pull consumers require it).
 * @module
 */
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type ConsumerInfo, type JetStreamManager } from "@nats-io/jetstream";
import { millis, nanos } from "@nats-io/transport-node";
import type { ConsumerSpec, ConsumerState } from "../broker/port.js";
import { EbindError } from "../task/errors.js";
import { apiCode, mapNatsError } from "./errors.js";
import { filterFitsStream } from "../broker/subjects.js";

const CONSUMER_NOT_FOUND = 10014;
/** nats-server 2.10+: a create (action "create") over a durable that exists with other settings. */
const CONSUMER_ALREADY_EXISTS = 10148;

function toConfig(spec: ConsumerSpec): Partial<ConsumerConfig> {
  const config: Partial<ConsumerConfig> = {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(spec.ackWaitMs),
    max_deliver: spec.maxDeliver,
    deliver_policy: spec.deliverPolicy === "new" ? DeliverPolicy.New : DeliverPolicy.All,
  };
  // An empty filter means the whole stream: send none (an empty one makes the client build the
  // create subject `…CREATE.<stream>.<durable>.`, which nothing answers).
  if (spec.filterSubject !== "") config.filter_subject = spec.filterSubject;
  if (spec.maxAckPending !== undefined) config.max_ack_pending = spec.maxAckPending;
  if (spec.inactiveThresholdMs !== undefined) config.inactive_threshold = nanos(spec.inactiveThresholdMs);
  return config;
}

/**
 * Refuses a filter outside the stream's subjects, as nats-server 2.9 does (10093) and 2.10+ no longer
 * does (see broker/subjects.ts). Streams fed by sources or a mirror are not checked, as on 2.9.
 * @throws EbindError `invalid_argument` for such a filter, `not_found` when the stream is missing.
 */
async function checkFilter(jsm: JetStreamManager, stream: string, spec: ConsumerSpec): Promise<void> {
  if (spec.filterSubject === "") return;
  let config;
  try {
    config = (await jsm.streams.info(stream)).config;
  } catch (err) {
    throw mapNatsError(err, `consumer ${stream}/${spec.durable}`);
  }
  if (config.mirror || (config.sources?.length ?? 0) > 0) return;
  if (!filterFitsStream(spec.filterSubject, config.subjects ?? [])) {
    throw new EbindError(
      "invalid_argument",
      `consumer ${stream}/${spec.durable}: filter subject ${spec.filterSubject} is not a valid subset of the stream's subjects (${(config.subjects ?? []).join(", ")})`,
    );
  }
}

/** Attempts of {@link ensureConsumer} when another process deletes the durable under it. */
const ENSURE_ATTEMPTS = 5;
/** nats-server 2.10+: an update (action "update") of a durable that does not exist. */
const CONSUMER_DOES_NOT_EXIST = 10149;

/**
 * Creates the durable, or updates the mutable parts of an existing one. When another process
 * deletes the durable meanwhile it starts over, up to 5 times: the update then finds none (10014 on
 * 2.9, 10149 on 2.15.3), and on 2.15.3, which serves API requests concurrently, even the create can
 * answer 10012 "consumer closed".
 * @throws EbindError `not_found` when the stream is missing, or the durable kept vanishing;
 *   `invalid_argument` for a filter outside the stream's subjects (on every server version) or a
 *   configuration the server refuses.
 */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, spec: ConsumerSpec): Promise<void> {
  await checkFilter(jsm, stream, spec);
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureOnce(jsm, stream, spec);
      return;
    } catch (err) {
      if (!(err instanceof Vanished)) throw err;
      if (attempt >= ENSURE_ATTEMPTS) throw new EbindError("not_found", err.message, { cause: err.cause });
    }
  }
}

/** The durable was deleted by someone else while {@link ensureOnce} worked on it. */
class Vanished extends Error {}

async function ensureOnce(jsm: JetStreamManager, stream: string, spec: ConsumerSpec): Promise<void> {
  const config = toConfig(spec);
  const where = `consumer ${stream}/${spec.durable}`;
  let exists = true;
  try {
    await jsm.consumers.info(stream, spec.durable);
  } catch (err) {
    if (apiCode(err) !== CONSUMER_NOT_FOUND) throw mapNatsError(err, where);
    exists = false;
  }
  if (!exists) {
    try {
      await jsm.consumers.add(stream, config);
      return;
    } catch (err) {
      // Another process created it since our lookup. nats-server 2.9 turns a create over an existing
      // durable into an update; 2.10+ refuses it (10148) unless the settings are the same: update.
      if (apiCode(err) !== CONSUMER_ALREADY_EXISTS) {
        const mapped = mapNatsError(err, `create ${where}`);
        // Deleted as it was created (2.15.3: 10012 "consumer closed", or a store error on its files).
        if (isConsumerClosed(err) || (mapped.code === "unavailable" && (await gone(jsm, stream, spec.durable)))) {
          throw new Vanished(`create ${where}: deleted while being created`, { cause: err });
        }
        throw mapped;
      }
    }
  }
  try {
    // deliver_policy cannot change on an existing consumer; leave it out of the update.
    const { deliver_policy: _ignored, durable_name: _name, ...mutable } = config;
    await jsm.consumers.update(stream, spec.durable, mutable);
  } catch (err) {
    const code = apiCode(err);
    // Other answers to an update racing a delete (2.15.3: a store error on the durable's files)
    // are recognised by the durable being gone now.
    if (code === CONSUMER_NOT_FOUND || code === CONSUMER_DOES_NOT_EXIST || isConsumerClosed(err) || (await gone(jsm, stream, spec.durable))) {
      throw new Vanished(`update ${where}: deleted while being updated`, { cause: err });
    }
    throw mapNatsError(err, `update ${where}`);
  }
}

/** Whether the durable does not exist now (a lookup failing for another reason says no). */
async function gone(jsm: JetStreamManager, stream: string, durable: string): Promise<boolean> {
  try {
    await jsm.consumers.info(stream, durable);
    return false;
  } catch (err) {
    return apiCode(err) === CONSUMER_NOT_FOUND;
  }
}

/** 10012 "consumer closed": the durable was deleted between its creation and the server's answer. */
function isConsumerClosed(err: unknown): boolean {
  return apiCode(err) === 10012 && /consumer closed/i.test((err as Error).message);
}

/** The durable's consumer info, or null when there is no such durable; other failures mapped. */
async function consumerInfo(jsm: JetStreamManager, stream: string, durable: string): Promise<ConsumerInfo | null> {
  try {
    return await jsm.consumers.info(stream, durable);
  } catch (err) {
    if (apiCode(err) === CONSUMER_NOT_FOUND) return null;
    throw mapNatsError(err, `consumer ${stream}/${durable}`);
  }
}

/** The durable's configuration as the server holds it, or null when there is no such durable. */
export async function consumerSpec(jsm: JetStreamManager, stream: string, durable: string): Promise<ConsumerSpec | null> {
  const info = await consumerInfo(jsm, stream, durable);
  if (info === null) return null;
  const c = info.config;
  return {
    durable,
    filterSubject: c.filter_subject ?? "",
    ackWaitMs: millis(c.ack_wait ?? 0),
    maxDeliver: c.max_deliver ?? -1,
    maxAckPending: c.max_ack_pending,
    deliverPolicy: c.deliver_policy === DeliverPolicy.New ? "new" : "all",
    inactiveThresholdMs: c.inactive_threshold ? millis(c.inactive_threshold) : undefined,
  };
}

/**
 * The durable's counts from its consumer info (`num_pending`, `num_ack_pending`, `num_redelivered`,
 * `num_waiting`), or null when there is no such durable.
 * @throws EbindError `not_found` when the stream is missing; the mapped error of a failed request.
 */
export async function consumerState(jsm: JetStreamManager, stream: string, durable: string): Promise<ConsumerState | null> {
  const info = await consumerInfo(jsm, stream, durable);
  if (info === null) return null;
  return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered, waiting: info.num_waiting };
}

/** Deletes the durable; false when it did not exist. */
export async function deleteConsumer(jsm: JetStreamManager, stream: string, durable: string): Promise<boolean> {
  try {
    return await jsm.consumers.delete(stream, durable);
  } catch (err) {
    const code = apiCode(err);
    if (code === CONSUMER_NOT_FOUND || code === 10059) return false;
    throw mapNatsError(err, `delete consumer ${stream}/${durable}`);
  }
}
