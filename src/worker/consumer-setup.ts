/**
 * Opening a worker's durable consumers without silently changing them for other workers: a durable
 * is shared by every worker that consumes with it, so its ack wait, max deliver and max ack pending
 * belong to all of them. A worker adopts the settings an existing durable has (and says so when
 * they differ from its own), unless it is told to update them.
 * @module
 */
import type { Logger } from "../broker/logger.js";
import type { Broker, ConsumerSpec } from "../broker/port.js";
import { TASK_STREAM } from "../broker/topology.js";
import { EbindError } from "../task/errors.js";

const SHARED_FIELDS = ["ackWaitMs", "maxDeliver", "maxAckPending"] as const;

/**
 * Creates the durable when it is missing; otherwise keeps its settings (or, with `update`, replaces
 * them). Returns the settings in force.
 * @throws EbindError `invalid_argument` when the durable exists with another filter, or when the
 *   work-queue stream refuses the filter because another durable already consumes those subjects.
 */
export async function openTaskConsumer(broker: Broker, wanted: ConsumerSpec, update: boolean, logger: Logger): Promise<ConsumerSpec> {
  const existing = await broker.consumerSpec(TASK_STREAM, wanted.durable);
  if (existing === null) {
    try {
      await broker.ensureConsumer(TASK_STREAM, wanted);
    } catch (err) {
      if (err instanceof EbindError && err.code === "invalid_argument" && /not unique|non-filtered/i.test(err.message)) {
        throw new EbindError(
          "invalid_argument",
          `worker: durable "${wanted.durable}" cannot consume ${wanted.filterSubject}: another durable already consumes these subjects ` +
            `of the work-queue stream ${TASK_STREAM}; every worker must use the same durable (default "ebind-worker")`,
          { cause: err },
        );
      }
      throw err;
    }
    return wanted;
  }
  if (existing.filterSubject !== wanted.filterSubject) {
    throw new EbindError(
      "invalid_argument",
      `worker: durable "${wanted.durable}" exists with filter ${existing.filterSubject || "(none)"}, not ${wanted.filterSubject}`,
    );
  }
  const differing = SHARED_FIELDS.filter((field) => wanted[field] !== undefined && existing[field] !== wanted[field]);
  if (differing.length === 0) return existing;
  const changes = differing.map((field) => `${field} ${String(existing[field])} → ${String(wanted[field])}`);
  if (update) {
    await broker.ensureConsumer(TASK_STREAM, wanted);
    logger.warn(`worker: updated the shared consumer "${wanted.durable}" (${changes.join(", ")}); restart workers that still run with the old settings`);
    return wanted;
  }
  const kept = differing.map((field) => `${field} ${String(existing[field])} (this worker asked for ${String(wanted[field])})`);
  logger.warn(`worker: the shared consumer "${wanted.durable}" keeps its settings: ${kept.join(", ")}; pass updateConsumer: true to change them for every worker`);
  return existing;
}
