/**
 * Errors of the task core: the wire error kinds (ebind's seven, and `canceled`), {@link TaskError} (a handler's failure as it
 * travels on the wire) and {@link EbindError} (a misuse of the API, never sent anywhere).
 *
 * Reference: ebind-reference.md §1.1 (error kinds), §2.6.4 (TaskError JSON), §3.5 (classification).
 * @module
 */

/**
 * The error kinds ebind itself produces. Handlers may use any other string as a kind (for example
 * `"validation"`), and a retry policy may list kinds that must not be retried.
 */
export const ErrKind = {
  /** A handler threw or rejected with an ordinary error. Retryable. */
  Handler: "handler",
  /** A payload, argument or result could not be decoded or encoded. Not retryable. */
  Decode: "decode",
  /** No handler is registered under the task's name. Not retryable. */
  UnknownHandler: "unknown_handler",
  /** The handler crashed in a way that is not an ordinary error (Go: a panic). Not retryable. */
  Panic: "panic",
  /** The task's deadline passed before or while it ran. Not retryable. */
  Deadline: "deadline",
  /** The number of arguments does not match the handler. Not retryable. */
  ArgCount: "arg_count",
  /** An argument has the wrong type, fails its schema, or cannot be carried by JSON. Not retryable. */
  ArgType: "arg_type",
  /**
   * The task was canceled while it ran or waited (a workflow step of a canceled DAG); its handler's
   * signal aborts with this kind. Not retryable. An extension of ebind for TypeScript.
   */
  Canceled: "canceled",
  /**
   * One attempt ran longer than its attempt timeout (`attemptTimeoutMs`); its handler's signal
   * aborts with this kind. Retryable: the retry policy decides whether another attempt runs. An
   * extension of ebind for TypeScript (BullMQ's job timeout, Temporal's start-to-close timeout).
   */
  Timeout: "timeout",
  /**
   * The task was delivered again after its last allowed attempt (the worker running that attempt
   * died): it is dead-lettered with its original bytes without running. Not retryable. An extension
   * of ebind for TypeScript.
   */
  MaxDeliver: "max_deliver",
} as const;

/** One of the kinds in {@link ErrKind}. */
export type ErrKind = (typeof ErrKind)[keyof typeof ErrKind];

/** The wire shape of a task error: `{"kind","message","retryable"}`, all always present (§2.6.4). */
export interface TaskErrorData {
  readonly kind: string;
  readonly message: string;
  readonly retryable: boolean;
}

/**
 * A task's failure, as a handler raises it and as the producer receives it.
 *
 * `error.message` reads `<kind>: <detail>` like ebind's `TaskError.Error()`; `detail` is the bare
 * message that travels in the JSON `message` field. Throw one from a handler to choose the kind and
 * whether the task may be retried; any other thrown value becomes kind `handler`, retryable.
 *
 * @example
 * throw new TaskError("validation", "email is missing", { retryable: false });
 */
export class TaskError extends Error {
  override readonly name = "TaskError";
  /** The error kind, for example `"handler"` or a kind of the handler's own. */
  readonly kind: string;
  /** The message without the kind prefix (the wire `message` field). */
  readonly detail: string;
  /** Whether a retry policy may retry the task after this failure. */
  readonly retryable: boolean;

  /**
   * @param kind the error kind; must be a non-empty string.
   * @param detail the human-readable message (anything else is converted with `String`).
   * @throws EbindError `invalid_argument` for an empty or non-string kind.
   * @param options `retryable` (default `true` for kind `handler`, `false` for every other kind
   *   ebind defines, `true` for kinds of your own) and an optional `cause`.
   */
  constructor(kind: string, detail: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    if (typeof kind !== "string" || kind.length === 0) {
      throw new EbindError("invalid_argument", `TaskError: kind must be a non-empty string, got ${JSON.stringify(kind) ?? String(kind)}`);
    }
    const text = typeof detail === "string" ? detail : String(detail);
    super(`${kind}: ${text}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.detail = text;
    this.retryable = options.retryable ?? defaultRetryable(kind);
  }

  /** Rebuilds a TaskError from its wire shape; an empty kind (which ebind never writes) reads as `handler`. */
  static fromData(data: TaskErrorData): TaskError {
    return new TaskError(data.kind || ErrKind.Handler, data.message, { retryable: data.retryable });
  }

  /** The wire shape (§2.6.4). */
  toData(): TaskErrorData {
    return { kind: this.kind, message: this.detail, retryable: this.retryable };
  }

  /** JSON form: the wire shape, so `JSON.stringify(err)` is what Go would write. */
  toJSON(): TaskErrorData {
    return this.toData();
  }
}

const nonRetryableKinds: ReadonlySet<string> = new Set<string>([
  ErrKind.Decode,
  ErrKind.UnknownHandler,
  ErrKind.Panic,
  ErrKind.Deadline,
  ErrKind.ArgCount,
  ErrKind.ArgType,
  ErrKind.Canceled,
]);

function defaultRetryable(kind: string): boolean {
  return !nonRetryableKinds.has(kind);
}

/**
 * Classifies whatever a handler threw (reference §3.5): a {@link TaskError} anywhere in the `cause`
 * chain is returned unchanged; an `Error` becomes kind `handler`, retryable, with its message; any
 * other thrown value (`throw "boom"`, `throw {…}`) is JavaScript's closest thing to Go's panic with
 * an arbitrary value and becomes kind `panic`, not retryable, with its string form.
 */
export function toTaskError(thrown: unknown): TaskError {
  try {
    return classify(thrown);
  } catch {
    // A thrown value whose properties throw when read: classify it without looking inside.
    return new TaskError(ErrKind.Handler, "a value that could not be inspected was thrown", { retryable: true });
  }
}

function classify(thrown: unknown): TaskError {
  const seen = new Set<unknown>();
  for (let e: unknown = thrown; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    if (e instanceof TaskError) return e;
  }
  if (thrown instanceof Error) return new TaskError(ErrKind.Handler, messageOf(thrown), { retryable: true, cause: thrown });
  return new TaskError(ErrKind.Panic, describeThrown(thrown), { retryable: false });
}

/** An error's message, even when reading it throws or it is not a string. */
function messageOf(err: Error): string {
  try {
    const message: unknown = err.message;
    return typeof message === "string" ? message : describeThrown(message);
  } catch {
    return `${err.name || "Error"} (its message could not be read)`;
  }
}

function describeThrown(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    try {
      return String(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
}

/** The codes of {@link EbindError}: what kind of misuse or condition it reports. */
export const EbindErrorCode = {
  /** An argument, option or name was not acceptable. The message names it. */
  InvalidArgument: "invalid_argument",
  /** A stream, consumer, DLQ entry or key does not exist. */
  NotFound: "not_found",
  /** The client, worker or broker was closed. */
  Closed: "closed",
  /** An operation did not finish in time. */
  Timeout: "timeout",
  /** A compare-and-set found another revision. */
  Conflict: "conflict",
  /** The message system could not be reached or refused the request. */
  Unavailable: "unavailable",
  /** A message is larger than the server accepts. */
  PayloadTooLarge: "payload_too_large",
} as const;

/** One of the codes in {@link EbindErrorCode}. */
export type EbindErrorCode = (typeof EbindErrorCode)[keyof typeof EbindErrorCode];

/**
 * An error of ebind's own API (bad input, a closed client, a missing stream…), as opposed to a
 * {@link TaskError}, which is a task's outcome. Branch on `code`; the message says what was wrong.
 */
export class EbindError extends Error {
  override readonly name = "EbindError";
  readonly code: EbindErrorCode;

  constructor(code: EbindErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
