/**
 * Pausing one task name across every worker (BullMQ's queue pause), on what nats-server 2.9 has:
 * a KV bucket says which names are paused, and workers park the tasks of a paused name in a stream
 * of their own instead of running them. An extension of ebind for TypeScript.
 *
 * - `ebind-task-pauses` (KV): key `b64url(name)`, value `{"name","state":"paused"|"resumed","at"}`.
 *   Every worker watches it (`worker/pause-watch.ts`), so a pause is seen everywhere as soon as it
 *   is written. The key's revision orders pauses and resumes (KV revisions only grow).
 * - `EBIND_PARKED` (work queue, `PARKED.>`): a task of a paused name that reaches a worker is
 *   published there under `PARKED.<its subject>` — bytes and headers unchanged, plus
 *   `Ebind-Prior-Attempts` (the deliveries that ran it before) — and only then acked. Nothing is run,
 *   nothing is dead-lettered, no attempt is spent, and the queue is not churned while paused.
 * - Resume writes the `resumed` state (revision R) and moves the parked tasks back to their subjects
 *   with `Ebind-Resumed-Revision: R` ({@link unparkTasks}). A worker that has not seen the resume
 *   yet runs such a task anyway — its pause (revision < R) is older than the resume — so moved tasks
 *   never bounce back; a pause written later (revision > R) parks them again. Workers that parked a
 *   task just after the resumer's move move it back themselves once they see the resume.
 * ebind for Go knows none of this: its workers run a paused name's tasks, and ignore the headers.
 * @module
 */
import { b64url } from "../task/names.js";
import { EbindError } from "../task/errors.js";
import { formatTime, parseTime } from "../task/time.js";
import type { Broker, Delivery, StreamSpec } from "./port.js";
import { DEFAULT_TASK_MAX_AGE_MS, PARKED_PREFIX, PARKED_STREAM, TARGET_PREFIX, TASK_PREFIX, deploymentReplicas } from "./topology.js";

/** The KV bucket of paused task names. */
export const TASK_PAUSES_BUCKET = "ebind-task-pauses";
/** Header carrying how many deliveries ran a task before it was parked (a parked task starts a new delivery count). */
export const PRIOR_ATTEMPTS_HEADER = "Ebind-Prior-Attempts";

/** The parked-task stream: a work queue kept as long as tasks are. */
export function parkedStreamSpec(replicas: number, maxAgeMs = DEFAULT_TASK_MAX_AGE_MS): StreamSpec {
  return { name: PARKED_STREAM, subjects: [`${PARKED_PREFIX}>`], retention: "workqueue", maxAgeMs, replicas };
}

/** The KV key of a paused name. */
export function pauseKey(name: string): string {
  return b64url(name);
}

/** A task name's pause state, as the bucket holds it. */
export interface TaskPauseState {
  readonly name: string;
  readonly state: "paused" | "resumed";
  /** When it was paused, or resumed. */
  readonly at: Date;
}

/** One paused task name. */
export interface TaskPause {
  readonly name: string;
  readonly pausedAt: Date;
}

/**
 * Header of a task published again by ebind (parked, moved back, handed back): when the task stream
 * first stored it, in ms since the epoch on the server's clock. Relative deadlines are measured from
 * it, so moving a task around does not restart its clock.
 */
export const STORED_AT_HEADER = "Ebind-Stored-At";

/** When the task stream first stored this task (server clock, ms): the header of a republished task, else the delivery's own time. */
export function firstStoredAtMs(delivery: Delivery): number {
  const raw = delivery.header(STORED_AT_HEADER);
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : delivery.storedAtMs;
}

/** Header of a task moved back from parking: the revision of the resume that moved it. */
export const RESUMED_REVISION_HEADER = "Ebind-Resumed-Revision";
/** Header of a parked task: the revision of the pause it was parked under. */
export const PAUSED_REVISION_HEADER = "Ebind-Paused-Revision";

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** The KV value of a pause state. */
export function encodeTaskPauseState(record: TaskPauseState): Uint8Array {
  return utf8.encode(`{"name":${JSON.stringify(record.name)},"state":${JSON.stringify(record.state)},"at":${JSON.stringify(formatTime(record.at))}}`);
}

/**
 * Reads a pause state record.
 * @throws EbindError `invalid_argument` naming the problem for a record that is not one.
 */
export function decodeTaskPauseState(value: Uint8Array): TaskPauseState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.decode(value));
  } catch (err) {
    throw new EbindError("invalid_argument", `task pause record: not JSON: ${(err as Error).message}`);
  }
  const o = parsed as { name?: unknown; state?: unknown; at?: unknown } | null;
  if (typeof o !== "object" || o === null || typeof o.name !== "string" || o.name === "" || (o.state !== "paused" && o.state !== "resumed") || typeof o.at !== "string") {
    throw new EbindError("invalid_argument", 'task pause record: expected {"name":string,"state":"paused"|"resumed","at":time}');
  }
  const at = parseTime(o.at);
  if (at === undefined) throw new EbindError("invalid_argument", "task pause record: at is the zero time");
  return { name: o.name, state: o.state, at };
}

/** The resume revision a moved-back task carries (0 when it carries none). */
export function resumedRevision(delivery: Delivery): number {
  return headerRevision(delivery, RESUMED_REVISION_HEADER);
}

function headerRevision(delivery: Delivery, header: string): number {
  const raw = delivery.header(header);
  const n = raw === undefined ? 0 : Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** The subject a parked task waits on. */
export function parkedSubject(subject: string): string {
  return PARKED_PREFIX + subject;
}

/** The attempts that ran a delivered task before this delivery (parked and handed-back runs included). */
export function attemptsBefore(delivery: Delivery): number {
  return priorAttempts(delivery) + delivery.deliveryCount - 1;
}

/**
 * The headers a task keeps when ebind publishes it again (parked, handed back): the attempts that
 * ran it so far, and when the task stream first stored it.
 */
export function carriedHeaders(delivery: Delivery): Record<string, string> {
  return { [PRIOR_ATTEMPTS_HEADER]: String(attemptsBefore(delivery)), [STORED_AT_HEADER]: String(firstStoredAtMs(delivery)) };
}

/** The deliveries that ran a task before it was last parked (0 when it never was). */
export function priorAttempts(delivery: Delivery): number {
  const raw = delivery.header(PRIOR_ATTEMPTS_HEADER);
  if (raw === undefined) return 0;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/**
 * Parks a delivered task: publishes its bytes under `PARKED.<subject>` (message id from its stream
 * sequence, so a retry after a crash stores it once) with the revision of the pause it is parked
 * under, then acks it. The parked stream is created when missing, with the task stream's replicas.
 * @throws the backend's error when it cannot be parked; the delivery is then left unsettled.
 */
export async function parkDelivery(broker: Broker, delivery: Delivery, pausedRevision: number): Promise<void> {
  const headers = { ...carriedHeaders(delivery), [PAUSED_REVISION_HEADER]: String(pausedRevision) };
  const publish = (): Promise<unknown> =>
    broker.publish(parkedSubject(delivery.subject), delivery.data, { msgId: `park:${delivery.streamSeq}`, headers });
  try {
    await publish();
  } catch (err) {
    if (!(err instanceof EbindError && err.code === "not_found")) throw err;
    await broker.ensureStream(parkedStreamSpec(await deploymentReplicas(broker)));
    await publish();
  }
  delivery.ack();
}

/** Pull expiry while moving parked tasks back. */
const UNPARK_PULL_MS = 1000;
/** How long a mover leaves a task parked under a newer pause before the durable may hand it out again. */
const UNPARK_LEAVE_MS = 5000;
/** Deliveries per pull while moving parked tasks back. */
const UNPARK_BATCH = 256;

/**
 * Moves every parked task of `name` back to the subject it came from (targeted ones included), each
 * under message id `unpark:<parked seq>` so a move repeated after a crash stores it once, and with
 * the revision of the resume that lifted the pause (`resumedAt`), so a worker that has not seen that
 * resume yet runs it instead of parking it again. Safe to run in several processes at once.
 * @returns how many tasks this call moved (workers that parked tasks after the resume move theirs too).
 * @throws EbindError `invalid_argument` for an empty name; the backend's errors.
 */
export async function unparkTasks(broker: Broker, name: string, resumedAt: number): Promise<number> {
  if (typeof name !== "string" || name === "") throw new EbindError("invalid_argument", "unpark: the task name must be a non-empty string");
  if ((await broker.streamState(PARKED_STREAM)) === null) return 0;
  const moved = { count: 0 };
  for (const [filter, suffix] of [
    [`${PARKED_PREFIX}${TASK_PREFIX}${name}`, "u"],
    [`${PARKED_PREFIX}${TARGET_PREFIX}*.${name}`, "t"],
  ] as const) {
    const durable = `ebind-unpark-${suffix}-${b64url(name)}`;
    // Movers share the durable; one that finds it empty deletes it, which ends another's pull: that
    // one opens it again and looks once more, so a task parked late is not left behind.
    for (let round = 1; ; round++) {
      try {
        await broker.ensureConsumer(PARKED_STREAM, { durable, filterSubject: filter, ackWaitMs: 30_000, maxDeliver: -1, inactiveThresholdMs: 300_000 });
        await moveAll(broker, durable, resumedAt, moved);
        break;
      } catch (err) {
        if (!consumerGone(err) || round >= 5) throw err;
      }
    }
    await broker.deleteConsumer(PARKED_STREAM, durable).catch(() => false);
  }
  return moved.count;
}

/**
 * Pulls the durable until it is empty, moving each parked task back and counting it in `moved`. A
 * pull waits its whole expiry unless it fills up, so each is sized to what the stream holds, and
 * none is made once the stream is empty.
 */
async function moveAll(broker: Broker, durable: string, resumedAt: number, moved: { count: number }): Promise<void> {
  for (;;) {
    const held = (await broker.streamState(PARKED_STREAM))?.messages ?? 0;
    if (held === 0) return;
    let batch = 0;
    for await (const d of broker.pull(PARKED_STREAM, durable, { max: Math.min(held, UNPARK_BATCH), expiresMs: UNPARK_PULL_MS })) {
      if (headerRevision(d, PAUSED_REVISION_HEADER) > resumedAt) {
        // Parked under a pause newer than this resume: it stays parked, and this move is over
        // (moving it would only have it parked again, over and over).
        d.nak(UNPARK_LEAVE_MS);
        return;
      }
      batch++;
      const original = d.subject.slice(PARKED_PREFIX.length);
      const headers: Record<string, string> = { [PRIOR_ATTEMPTS_HEADER]: String(priorAttempts(d)), [RESUMED_REVISION_HEADER]: String(resumedAt) };
      const storedAt = d.header(STORED_AT_HEADER);
      if (storedAt !== undefined) headers[STORED_AT_HEADER] = storedAt;
      await broker.publish(original, d.data, { msgId: `unpark:${d.streamSeq}`, headers });
      d.ack();
      moved.count++;
    }
    if (batch === 0) return;
  }
}

/** Whether a pull failed because the durable was deleted under it. */
function consumerGone(err: unknown): boolean {
  return err instanceof EbindError && (err.code === "not_found" || /consumer deleted/i.test(err.message));
}
