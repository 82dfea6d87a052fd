/**
 * ebind's streams, subjects and consumer names (reference §2.2–2.4), and {@link ensureStreams}.
 * These strings are the wire contract shared with ebind for Go: change none of them.
 * @module
 */
import { b64url } from "../task/names.js";
import { EbindError } from "../task/errors.js";
import type { Broker, StreamSpec } from "./port.js";

/** The work-queue stream of tasks. */
export const TASK_STREAM = "EBIND_TASKS";
/** The stream of responses to producers. */
export const RESPONSE_STREAM = "EBIND_RESP";
/** The dead-letter stream. */
export const DLQ_STREAM = "EBIND_DLQ";
/** The stream of tasks parked while their name is paused (an extension, `broker/parking.ts`). */
export const PARKED_STREAM = "EBIND_PARKED";

/** Subject prefix of untargeted tasks: `TASKS.<handler name>`. */
export const TASK_PREFIX = "TASKS.";
/** Subject prefix of targeted tasks: `TASKS_TARGET.<b64url(target)>.<handler name>`. */
export const TARGET_PREFIX = "TASKS_TARGET.";
/** Subject prefix of responses: `RESP.<client id>.<task id>`. */
export const RESPONSE_PREFIX = "RESP.";
/** Subject prefix of dead letters: `DLQ.<handler name>`. */
export const DLQ_PREFIX = "DLQ.";
/** Subject prefix of parked tasks: `PARKED.<the task's own subject>`. */
export const PARKED_PREFIX = "PARKED.";

/** The durable shared by all workers for untargeted tasks (reference §2.3). */
export const DEFAULT_WORKER_DURABLE = "ebind-worker";

/**
 * Bytes of the server's max payload kept free in every task, so that its dead-letter entry (the
 * task plus an error of at most 8 KiB and a few fields) always fits: a task whose outcome could not
 * be recorded would otherwise run again forever.
 */
export const DLQ_HEADROOM_BYTES = 16 * 1024;

/** `TASKS.<name>`. */
export function taskSubject(name: string): string {
  return TASK_PREFIX + name;
}

/** The subject token of a target: base64url without padding, so any string is subject-safe. */
export function targetToken(target: string): string {
  return b64url(target);
}

/** `TASKS_TARGET.<b64url(target)>.<name>`. */
export function targetedTaskSubject(target: string, name: string): string {
  return `${TARGET_PREFIX}${targetToken(target)}.${name}`;
}

/** The subject a task is published on: targeted when `target` is non-empty. */
export function taskPublishSubject(name: string, target?: string): string {
  return target ? targetedTaskSubject(target, name) : taskSubject(name);
}

/** The consumer filter for one claim: `TASKS_TARGET.<b64url(claim)>.>`. */
export function targetedTaskFilter(claim: string): string {
  return `${TARGET_PREFIX}${targetToken(claim)}.>`;
}

/** The durable shared by every worker holding `claim`: `ebind-targets-<b64url(claim)>`. */
export function claimDurable(claim: string): string {
  return `ebind-targets-${targetToken(claim)}`;
}

/** `RESP.<clientId>.<taskId>`. */
export function responseSubject(clientId: string, taskId: string): string {
  return `${RESPONSE_PREFIX}${clientId}.${taskId}`;
}

/** The durable of one client's responses: `ebind-resp-<clientId>`. */
export function responseDurable(clientId: string): string {
  return `ebind-resp-${clientId}`;
}

/** `DLQ.<name>`. */
export function dlqSubject(name: string): string {
  return DLQ_PREFIX + name;
}

/**
 * The handler name carried by a task subject, or `undefined` if `subject` is not a task subject.
 * Used when an envelope cannot be decoded and the name must come from the subject alone.
 */
export function handlerNameFromSubject(subject: string): string | undefined {
  if (subject.startsWith(TASK_PREFIX)) return subject.slice(TASK_PREFIX.length) || undefined;
  if (subject.startsWith(TARGET_PREFIX)) {
    const rest = subject.slice(TARGET_PREFIX.length);
    const dot = rest.indexOf(".");
    return dot >= 0 ? rest.slice(dot + 1) || undefined : undefined;
  }
  return undefined;
}

/** Options of {@link ensureStreams}; defaults as reference §1.4. */
export interface StreamOptions {
  /**
   * Replicas of every stream. Given, existing streams are scaled to it. Not given, a stream created
   * now gets 1 and an existing one keeps its replicas, so an app calling `ensureStreams(broker)` at
   * start-up never scales a replicated deployment down. @default 1 for new streams
   */
  readonly replicas?: number | undefined;
  /** Tasks older than this are discarded. @default 86_400_000 (24 h) */
  readonly taskMaxAgeMs?: number | undefined;
  /** Responses older than this are discarded. @default 3_600_000 (1 h) */
  readonly responseMaxAgeMs?: number | undefined;
  /** Dead letters older than this are discarded. @default 604_800_000 (7 days) */
  readonly dlqMaxAgeMs?: number | undefined;
  /** Duplicate window of the task stream. @default 300_000 (5 min) */
  readonly duplicateWindowMs?: number | undefined;
}

/** Default replicas. */
export const DEFAULT_REPLICAS = 1;
/** Default task max age: 24 h. */
export const DEFAULT_TASK_MAX_AGE_MS = 24 * 3600_000;
/** Default response max age: 1 h. */
export const DEFAULT_RESPONSE_MAX_AGE_MS = 3600_000;
/** Default DLQ max age: 7 days. */
export const DEFAULT_DLQ_MAX_AGE_MS = 7 * 24 * 3600_000;
/** Default duplicate window of the task stream: 5 min. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 5 * 60_000;

/** The longest age or window accepted: 100 years, far inside what nanoseconds in JSON can say. */
const MAX_STREAM_DURATION_MS = 100 * 365 * 24 * 3600_000;
/** nats-server refuses ages and windows under 100 ms. */
const MIN_STREAM_DURATION_MS = 100;

function positive(value: number | undefined, fallback: number, path: string, min = MIN_STREAM_DURATION_MS): number {
  if (value === undefined || value === 0) return fallback;
  const max = path === "replicas" ? 5 : MAX_STREAM_DURATION_MS;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new EbindError("invalid_argument", `streams.${path} must be a number from ${min} to ${max}${path === "replicas" ? "" : " ms"}, got ${String(value)}`);
  }
  return value;
}

/** The task-queue streams as {@link ensureStreams} creates them: ebind's three, and `EBIND_PARKED`. */
export function taskQueueStreams(options: StreamOptions = {}): StreamSpec[] {
  const replicas = positive(options.replicas, DEFAULT_REPLICAS, "replicas", 1);
  if (!Number.isInteger(replicas)) throw new EbindError("invalid_argument", `streams.replicas must be an integer, got ${replicas}`);
  const taskMaxAgeMs = positive(options.taskMaxAgeMs, DEFAULT_TASK_MAX_AGE_MS, "taskMaxAgeMs");
  const duplicateWindowMs = positive(options.duplicateWindowMs, DEFAULT_DUPLICATE_WINDOW_MS, "duplicateWindowMs");
  if (duplicateWindowMs > taskMaxAgeMs) {
    throw new EbindError(
      "invalid_argument",
      `streams.duplicateWindowMs (${duplicateWindowMs}) must not exceed streams.taskMaxAgeMs (${taskMaxAgeMs}); the default window is ${DEFAULT_DUPLICATE_WINDOW_MS} ms`,
    );
  }
  return [
    {
      name: TASK_STREAM,
      subjects: [`${TASK_PREFIX}>`, `${TARGET_PREFIX}>`],
      retention: "workqueue",
      maxAgeMs: taskMaxAgeMs,
      replicas,
      duplicateWindowMs,
    },
    {
      name: RESPONSE_STREAM,
      subjects: [`${RESPONSE_PREFIX}>`],
      retention: "limits",
      maxAgeMs: positive(options.responseMaxAgeMs, DEFAULT_RESPONSE_MAX_AGE_MS, "responseMaxAgeMs"),
      replicas,
    },
    {
      name: DLQ_STREAM,
      subjects: [`${DLQ_PREFIX}>`],
      retention: "limits",
      maxAgeMs: positive(options.dlqMaxAgeMs, DEFAULT_DLQ_MAX_AGE_MS, "dlqMaxAgeMs"),
      replicas,
    },
    // Tasks of paused names wait here (broker/parking.ts), as long as tasks are kept.
    { name: PARKED_STREAM, subjects: [`${PARKED_PREFIX}>`], retention: "workqueue", maxAgeMs: taskMaxAgeMs, replicas },
  ];
}

/**
 * The replicas of this deployment: those of the task stream `EBIND_TASKS` (1 when it does not
 * exist yet). Buckets and streams the engine creates on its own (the leader lease, the server-clock
 * probe, task pauses, the parked stream) take this many, so losing one node of a replicated
 * deployment loses none of them.
 * @throws the backend's error when the stream cannot be read.
 */
export async function deploymentReplicas(broker: Broker): Promise<number> {
  return (await broker.streamState(TASK_STREAM))?.replicas ?? 1;
}

/**
 * Creates or updates `EBIND_TASKS`, `EBIND_RESP` and `EBIND_DLQ` (reference §1.4, §2.2), and
 * `EBIND_PARKED` (tasks of paused names, an extension); safe to call any number of times. Call it
 * before starting clients and workers.
 * @throws EbindError `invalid_argument` for bad options; otherwise the backend's error code, with the
 *   stream's name in the message and the original as `cause`.
 */
export async function ensureStreams(broker: Broker, options: StreamOptions = {}): Promise<void> {
  for (const spec of taskQueueStreams(options)) {
    try {
      await broker.ensureStream(options.replicas === undefined ? { ...spec, keepMoreReplicas: true } : spec);
    } catch (err) {
      const code = err instanceof EbindError ? err.code : "unavailable";
      throw new EbindError(code, `streams: ${spec.name}: ${(err as Error).message}`, { cause: err });
    }
  }
}
