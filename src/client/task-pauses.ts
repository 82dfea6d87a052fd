/**
 * Pausing and resuming one task name across every worker (BullMQ's queue pause; `broker/parking.ts`
 * says how it works on nats-server 2.9). Durable: the pause lives in KV until resumed; tasks of the
 * name stay queued (parked), none is run, dead-lettered or charged an attempt meanwhile.
 *
 * @example
 * await pauseTask(broker, "billing.Charge");   // or pauseTask(broker, charge) with the handler
 * await resumeTask(broker, "billing.Charge");  // → { wasPaused: true, moved: 42 }
 * @module
 */
import { decodeTaskPauseState, encodeTaskPauseState, pauseKey, TASK_PAUSES_BUCKET, unparkTasks, type TaskPause } from "../broker/parking.js";
import type { Broker, KvBucket } from "../broker/port.js";
import { deploymentReplicas } from "../broker/topology.js";
import { describe } from "../task/describe.js";
import { EbindError } from "../task/errors.js";
import type { HandlerFn, TaskRef } from "../task/handler.js";
import { validateHandlerName } from "../task/names.js";

/** A task name, or the handler (or typed reference) it belongs to. */
export type TaskNameOf = string | HandlerFn | TaskRef<any, any>;

function nameOf(task: TaskNameOf): string {
  if (typeof task === "string") {
    validateHandlerName(task, "task name");
    return task;
  }
  return describe(task).name;
}

async function bucket(broker: Broker): Promise<KvBucket> {
  return broker.kv(TASK_PAUSES_BUCKET, { history: 1, replicas: await deploymentReplicas(broker) });
}

/**
 * Pauses a task name on every worker: from the moment each worker sees it (one KV watch away), the
 * name's tasks are parked instead of run. Pausing a paused name keeps its first pause.
 * @returns the pause in force.
 * @throws EbindError `invalid_argument` for a name that is not a valid task subject; the backend's errors.
 */
export async function pauseTask(broker: Broker, task: TaskNameOf): Promise<TaskPause> {
  const name = nameOf(task);
  const kv = await bucket(broker);
  for (let attempt = 1; ; attempt++) {
    const current = await kv.get(pauseKey(name));
    const state = current ? decodeTaskPauseState(current.value) : undefined;
    if (state?.state === "paused") return { name, pausedAt: state.at };
    const record = encodeTaskPauseState({ name, state: "paused", at: new Date() });
    try {
      if (current) await kv.update(pauseKey(name), record, current.revision);
      else await kv.create(pauseKey(name), record);
      return { name, pausedAt: decodeTaskPauseState(record).at };
    } catch (err) {
      if (!(err instanceof EbindError && err.code === "conflict") || attempt >= 5) throw err;
    }
  }
}

/** What {@link resumeTask} did. */
export interface TaskResume {
  /** Whether the name was paused. */
  readonly wasPaused: boolean;
  /** How many parked tasks were moved back to the queue. */
  readonly moved: number;
}

/**
 * Resumes a task name: records the resume, then moves the name's parked tasks back to the queue (in
 * the order they were parked). Resuming a name that is not paused still moves back any task left
 * parked (a mover that died half-way).
 * @throws EbindError `invalid_argument` for a bad name; the backend's errors (the pause may then be
 *   lifted with some tasks still parked: resume again).
 */
export async function resumeTask(broker: Broker, task: TaskNameOf): Promise<TaskResume> {
  const name = nameOf(task);
  const kv = await bucket(broker);
  for (let attempt = 1; ; attempt++) {
    const current = await kv.get(pauseKey(name));
    const wasPaused = current !== null && decodeTaskPauseState(current.value).state === "paused";
    const record = encodeTaskPauseState({ name, state: "resumed", at: new Date() });
    let revision: number;
    try {
      revision = current ? await kv.update(pauseKey(name), record, current.revision) : await kv.create(pauseKey(name), record);
    } catch (err) {
      if (!(err instanceof EbindError && err.code === "conflict") || attempt >= 5) throw err;
      continue;
    }
    return { wasPaused, moved: await unparkTasks(broker, name, revision) };
  }
}

/** The task names paused now, oldest pause first. */
export async function listPausedTasks(broker: Broker): Promise<TaskPause[]> {
  const kv = await bucket(broker);
  const out: TaskPause[] = [];
  for (const e of await kv.entries()) {
    try {
      const state = decodeTaskPauseState(e.value);
      if (state.state === "paused") out.push({ name: state.name, pausedAt: state.at });
    } catch {
      // a record written by something else is not a pause
    }
  }
  return out.sort((a, b) => a.pausedAt.getTime() - b.pausedAt.getTime() || (a.name < b.name ? -1 : 1));
}
