/**
 * Creating every stream and KV bucket ebind uses in one step, for deployments where the processes
 * that enqueue, work and schedule run as users who may not create streams (README "Auth, TLS and
 * permissions"): an administrator runs this (or `ebctl stream ensure`) once, before they start.
 * @module
 */
import { DLQ_STREAM, ensureStreams, PARKED_STREAM, RESPONSE_STREAM, TASK_PAUSES_BUCKET, TASK_STREAM, type Broker, type StreamOptions } from "../../broker/index.js";
import { deploymentReplicas } from "../../broker/topology.js";
import { EbindError } from "../../task/errors.js";
import { CLOCK_BUCKET } from "../../worker/server-clock.js";
import { DAG_BUCKET } from "../model/keys.js";
import { LEADER_BUCKET } from "../run/elector.js";
import { DAG_EVENTS_STREAM, eventStreamSpec } from "../store/events.js";

/** Options of {@link ensureTopology}. */
export interface TopologyOptions extends StreamOptions {
  /**
   * Replicas of every stream and bucket. Given, each is created with it or scaled to it (buckets are
   * only scaled up). Not given, new ones get the task stream's replicas (1 for a new deployment) and
   * existing ones keep theirs: a replicated deployment is never scaled down.
   * @default the task stream's replicas
   */
  readonly replicas?: number | undefined;
}

/** What {@link ensureTopology} made sure of: stream names (KV buckets as their `KV_<bucket>` streams). */
export const TOPOLOGY_STREAMS: readonly string[] = [
  TASK_STREAM,
  RESPONSE_STREAM,
  DLQ_STREAM,
  PARKED_STREAM,
  DAG_EVENTS_STREAM,
  ...[DAG_BUCKET, TASK_PAUSES_BUCKET, CLOCK_BUCKET, LEADER_BUCKET].map((b) => `KV_${b}`),
];

/**
 * Creates (or updates to these options) every stream and KV bucket ebind's task queue and workflows
 * use: the task-queue streams of `ensureStreams` (`EBIND_TASKS`, `EBIND_RESP`, `EBIND_DLQ`,
 * `EBIND_PARKED`), the workflow event stream `EBIND_DAG_EVENTS`, and the buckets `ebind-dags`,
 * `ebind-task-pauses`, `ebind-clock` and `ebind-leader`. Safe to call any number of times. Once they
 * exist, clients, workers and schedulers only look them up, so their users need no right to create
 * or update streams.
 * @returns the streams ensured, {@link TOPOLOGY_STREAMS}.
 * @throws EbindError `invalid_argument` for bad options; otherwise the backend's error, with the
 *   stream or bucket named in the message (e.g. a permissions violation for a user that may not
 *   create streams).
 */
export async function ensureTopology(broker: Broker, options: TopologyOptions = {}): Promise<readonly string[]> {
  const given = options.replicas;
  if (given !== undefined && (!Number.isInteger(given) || given < 1)) throw new EbindError("invalid_argument", `topology.replicas must be an integer ≥ 1, got ${String(given)}`);
  await ensureStreams(broker, options);
  const replicas = given ?? (await deploymentReplicas(broker));
  try {
    await broker.ensureStream({ ...eventStreamSpec(replicas), keepMoreReplicas: given === undefined });
  } catch (err) {
    throw wrap(err, DAG_EVENTS_STREAM);
  }
  for (const bucket of [DAG_BUCKET, TASK_PAUSES_BUCKET, CLOCK_BUCKET, LEADER_BUCKET]) {
    try {
      await broker.kv(bucket, { replicas, history: 1 });
    } catch (err) {
      throw wrap(err, `KV bucket ${bucket}`);
    }
  }
  return TOPOLOGY_STREAMS;
}

function wrap(err: unknown, what: string): EbindError {
  const code = err instanceof EbindError ? err.code : "unavailable";
  return new EbindError(code, `topology: ${what}: ${(err as Error).message}`, { cause: err });
}
