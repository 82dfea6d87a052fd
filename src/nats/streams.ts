/**
 * Stream set-up on JetStream: create or update from a {@link StreamSpec}, sending only fields that
 * nats-server 2.9 knows (newer ones are silently ignored by 2.9: nats-2.9-notes.md leading item 1).
 * @module
 */
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { StreamSpec, StreamState } from "../broker/port.js";
import { apiCode, mapNatsError } from "./errors.js";

const STREAM_NOT_FOUND = 10059;

function toConfig(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  const config: Partial<StreamConfig> & { name: string } = {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: spec.retention === "workqueue" ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: spec.storage === "memory" ? StorageType.Memory : StorageType.File,
    max_age: nanos(spec.maxAgeMs),
    num_replicas: spec.replicas,
    discard: DiscardPolicy.Old,
  };
  if (spec.duplicateWindowMs !== undefined) config.duplicate_window = nanos(spec.duplicateWindowMs);
  return config;
}

/** Whether the stream's configuration already has every field {@link toConfig} sets, as set. */
function alreadyConfigured(current: StreamConfig, wanted: Partial<StreamConfig>): boolean {
  const sorted = (xs: readonly string[] | undefined): string => JSON.stringify([...(xs ?? [])].sort());
  return (
    sorted(current.subjects) === sorted(wanted.subjects) &&
    current.retention === wanted.retention &&
    current.storage === wanted.storage &&
    current.max_age === wanted.max_age &&
    current.num_replicas === wanted.num_replicas &&
    current.discard === wanted.discard &&
    (wanted.duplicate_window === undefined || current.duplicate_window === wanted.duplicate_window)
  );
}

/**
 * Creates the stream, or updates it when it exists with another configuration. A stream already
 * configured as `spec` says is left alone, so a process whose user may only look streams up
 * (`$JS.API.STREAM.INFO`, not `…UPDATE`) can start once an administrator created them.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<void> {
  const config = toConfig(spec);
  try {
    const info = await jsm.streams.info(spec.name);
    if (spec.keepMoreReplicas && (info.config.num_replicas ?? 1) > spec.replicas) config.num_replicas = info.config.num_replicas;
    if (alreadyConfigured(info.config, config)) return;
  } catch (err) {
    if (apiCode(err) !== STREAM_NOT_FOUND) throw mapNatsError(err, `stream ${spec.name}`);
    try {
      await jsm.streams.add(config);
      return;
    } catch (addErr) {
      // Another process may have created it between our lookup and add: fall through to update.
      if (!/already in use|exists/i.test((addErr as Error).message)) throw mapNatsError(addErr, `create stream ${spec.name}`);
    }
  }
  try {
    await jsm.streams.update(spec.name, config);
  } catch (err) {
    throw mapNatsError(err, `update stream ${spec.name}`);
  }
}

/** The stream's state, or null when it does not exist. */
export async function streamState(jsm: JetStreamManager, name: string): Promise<StreamState | null> {
  try {
    const info = await jsm.streams.info(name);
    return {
      name,
      messages: info.state.messages,
      bytes: info.state.bytes,
      firstSeq: info.state.first_seq,
      lastSeq: info.state.last_seq,
      consumers: info.state.consumer_count,
      replicas: info.config.num_replicas ?? 1,
    };
  } catch (err) {
    if (apiCode(err) === STREAM_NOT_FOUND) return null;
    throw mapNatsError(err, `stream ${name}`);
  }
}
