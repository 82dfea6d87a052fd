/**
 * The documents that travel on the wire, in their TypeScript form: camelCase, durations in
 * milliseconds, times as `Date`, payloads and results as raw JSON text (never re-encoded).
 * `codec.ts` converts them to and from ebind's JSON (reference §2.6); nothing else does.
 * @module
 */
import type { TaskErrorData } from "./errors.js";
import type { RetryPolicyData } from "./retry.js";

/**
 * The task envelope (reference §2.6.1), the body of every `TASKS.*` / `TASKS_TARGET.*` message.
 * Optional fields are `undefined` when absent on the wire (or, for times, the zero time).
 */
export interface Task {
  /** Unique id: a UUID for ad-hoc tasks, `<dag>:<step>` for workflow steps. */
  readonly id: string;
  /** The handler name the task is routed by. */
  readonly name: string;
  /** The positional arguments as raw JSON array text, exactly as published (`"[]"` when none). */
  readonly payload: string;
  /** The response subject `RESP.<client>.<task>`; absent for fire-and-forget tasks and DAG steps. */
  readonly replyTo?: string | undefined;
  /** Absolute execution deadline; absent means none (wire: the zero time). */
  readonly deadline?: Date | undefined;
  /**
   * The deadline exactly as it was read off the wire, kept only when a `Date` cannot hold it: Go
   * writes nanoseconds (`…05.123456789Z`) and the local offset (`…+01:00`). `encodeTask` writes it
   * back in place of {@link deadline} while the two still name the same millisecond, so a task that
   * passes through a TypeScript worker (a DLQ entry, a requeue) keeps Go's precision. Set by
   * `decodeTask` only; a changed `deadline` makes it moot.
   */
  readonly deadlineText?: string | undefined;
  /** When the producer published the task (UTC). */
  readonly enqueuedAt: Date;
  /** `enqueued_at` as read off the wire, kept and written back like {@link deadlineText}. */
  readonly enqueuedAtText?: string | undefined;
  /** 0 from producers; the worker sets the delivery count (the true attempt). */
  readonly attempt: number;
  /** W3C trace context (`traceparent`, `tracestate`), carried opaquely. */
  readonly traceCtx?: Readonly<Record<string, string>> | undefined;
  /** The workflow this task is a step of. */
  readonly dagId?: string | undefined;
  /** The step id within {@link dagId}. */
  readonly stepId?: string | undefined;
  /** A per-task retry policy overriding the worker's. */
  readonly retryPolicy?: RetryPolicyData | undefined;
  /** A claim (or `worker:<id>`) the task must run on. */
  readonly target?: string | undefined;
  /** Set by the executing worker: who ran (or last ran) the task. */
  readonly workerId?: string | undefined;
  /**
   * The longest one attempt may run, in ms, measured on the worker's clock from the attempt's start;
   * past it the attempt fails with kind `timeout` (retryable). Wire: `attempt_timeout`, integer
   * nanoseconds, omitted when unset. An extension of ebind for TypeScript: ebind for Go ignores it.
   */
  readonly attemptTimeoutMs?: number | undefined;
}

/** A terminal outcome sent to `reply_to` (reference §2.6.3). */
export interface TaskResponse {
  readonly taskId: string;
  /** The handler's result as raw JSON text; absent for handlers that return nothing, and on failure. */
  readonly result?: string | undefined;
  /** The failure; absent on success. */
  readonly error?: TaskErrorData | undefined;
  /** The delivery count of the attempt that completed. */
  readonly attempts: number;
  readonly completedAt: Date;
}

/** The seed's name for {@link TaskResponse}. */
export type Response = TaskResponse;

/** A dead-letter record, the body of `DLQ.<name>` messages (reference §2.6.5). */
export interface DlqEntry {
  /** The envelope as last delivered: `attempt` is the final delivery count, `workerId` is set. */
  readonly task: Task;
  readonly error: TaskErrorData;
  readonly finalAttempt: number;
  readonly deadLetteredAt: Date;
  /**
   * The message exactly as it arrived, for an entry the worker could not run as a task (it did
   * not decode, or contradicted its subject): requeue publishes these bytes back on `subject`.
   * Wire: `raw` = `{"subject","data"}` with `data` in standard base64, omitted otherwise. An
   * extension of ebind for TypeScript (ebind for Go ignores it).
   */
  readonly raw?: RawMessage | undefined;
}

/** A message's subject and bytes, kept as they were. */
export interface RawMessage {
  readonly subject: string;
  readonly data: Uint8Array;
}
