/**
 * {@link Future}: the pending result of an enqueued task (reference §1.2, §3.8).
 *
 * An outstanding future is small (issue 14: ≤ 1 KiB of heap each, with one `result()` awaited): the
 * client's map of outstanding tasks holds the future itself, which keeps the terminal response once
 * it arrives and, until then, the calls waiting on it — no promise of its own, no closures. Each
 * `result()` / `resultRaw()` / `outcome()` call costs one promise, settled straight from the
 * response; a timeout or a signal adds its timer and listener to that call only.
 * @module
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { TaskResponse } from "../task/envelope.js";
import { EbindError, TaskError } from "../task/errors.js";

/** Options of {@link Future.result}. */
export interface AwaitOptions {
  /** Stop waiting when this aborts (the task still runs; its result can be awaited again). */
  readonly signal?: AbortSignal | undefined;
  /** Stop waiting after this many ms with an `EbindError` code `timeout`. */
  readonly timeoutMs?: number | undefined;
}

/** What a waiting call wants from the response: the response itself, the raw result, the decoded result. */
type Want = "response" | "raw" | "result";

/** One call waiting on the outcome: what it wants, and the functions of the promise it returned. */
interface Waiting {
  readonly want: Want;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

/** Hands a future its outcome (bound to the class's private method in its static block). */
let settle: (future: Future<unknown>, outcome: TaskResponse | Error) => void;

/**
 * The pending outcome of one task. The response is routed to it by task id; awaiting it does not
 * consume it, so `result()` may be called any number of times. Never rejects unobserved: a task
 * nobody awaits does not crash the process with an unhandled rejection.
 */
export class Future<R> {
  static {
    settle = (future, outcome) => future.#settle(outcome);
  }

  /** The terminal response, or why none will come (the client closed); undefined while pending. */
  #outcome: TaskResponse | Error | undefined = undefined;
  /** The calls waiting for the outcome: none, one (the usual case, and the smallest), or several. */
  #waiting: Waiting | Waiting[] | undefined = undefined;
  readonly #resultSchema: StandardSchemaV1 | undefined;

  /**
   * @internal Created by the client, which settles it with {@link settleFuture}.
   * @param id the task id.
   * @param name the handler name.
   * @param resultSchema the handler's declared result schema, if any.
   */
  constructor(
    readonly id: string,
    readonly name: string,
    resultSchema?: StandardSchemaV1,
  ) {
    this.#resultSchema = resultSchema;
  }

  /**
   * The handler's result, decoded from JSON (and validated by the handler's result schema, if it
   * declared one).
   * @throws TaskError the task's terminal failure, with its kind, message and retryable flag.
   * @throws EbindError `closed` if the client closed first, `timeout` / the signal's reason per
   *   {@link AwaitOptions}, `invalid_argument` for a bad `timeoutMs` or a result that fails the declared schema.
   */
  result(options: AwaitOptions = {}): Promise<R> {
    return this.#wait("result", options) as Promise<R>;
  }

  /**
   * The result as raw JSON text exactly as the worker sent it (`"5"` for the number 5), or
   * `undefined` for a handler that returned nothing. Throws like {@link result}.
   */
  resultRaw(options: AwaitOptions = {}): Promise<string | undefined> {
    return this.#wait("raw", options) as Promise<string | undefined>;
  }

  /** The full terminal response (attempts, completion time…); throws only for closed/timeout/abort. */
  outcome(options: AwaitOptions = {}): Promise<TaskResponse> {
    return this.#wait("response", options) as Promise<TaskResponse>;
  }

  #wait(want: Want, options: AwaitOptions): Promise<unknown> {
    if (typeof options !== "object" || options === null) {
      return Promise.reject(new EbindError("invalid_argument", `task ${this.id} (${this.name}): options must be an object, got ${String(options)}`));
    }
    const { signal, timeoutMs } = options;
    if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0)) {
      return Promise.reject(new EbindError("invalid_argument", `task ${this.id} (${this.name}): timeoutMs must be a finite number of ms ≥ 0, got ${String(timeoutMs)}`));
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(new EbindError("invalid_argument", `task ${this.id} (${this.name}): signal must be an AbortSignal`));
    }
    return new Promise<unknown>((resolve, reject) => {
      if (signal?.aborted) return reject(this.#aborted(signal));
      if (this.#outcome !== undefined) return this.#deliver({ want, resolve, reject }, this.#outcome);
      if (!signal && timeoutMs === undefined) return this.#add({ want, resolve, reject });
      let timer: NodeJS.Timeout | undefined;
      const end = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#drop(waiting);
      };
      const waiting: Waiting = {
        want,
        resolve: (value) => {
          end();
          resolve(value);
        },
        reject: (reason) => {
          end();
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passed on as thrown (a schema's validator may throw anything)
          reject(reason);
        },
      };
      const onAbort = (): void => waiting.reject(this.#aborted(signal!));
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => waiting.reject(new EbindError("timeout", `task ${this.id} (${this.name}): no result within ${timeoutMs} ms`)), timeoutMs);
      }
      this.#add(waiting);
    });
  }

  #aborted(signal: AbortSignal): Error {
    return signal.reason instanceof Error ? signal.reason : new EbindError("timeout", `task ${this.id} (${this.name}): wait aborted`);
  }

  #add(waiting: Waiting): void {
    const now = this.#waiting;
    if (now === undefined) this.#waiting = waiting;
    else if (Array.isArray(now)) now.push(waiting);
    else this.#waiting = [now, waiting];
  }

  /** Forgets a call that stopped waiting (its timeout or signal). */
  #drop(waiting: Waiting): void {
    const now = this.#waiting;
    if (now === waiting) this.#waiting = undefined;
    else if (Array.isArray(now)) {
      const at = now.indexOf(waiting);
      if (at >= 0) now.splice(at, 1);
      if (now.length === 0) this.#waiting = undefined;
    }
  }

  #settle(outcome: TaskResponse | Error): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting === undefined) return;
    if (Array.isArray(waiting)) for (const one of waiting) this.#deliver(one, outcome);
    else this.#deliver(waiting, outcome);
  }

  #deliver(waiting: Waiting, outcome: TaskResponse | Error): void {
    if (outcome instanceof Error) return waiting.reject(outcome);
    try {
      waiting.resolve(this.#value(waiting.want, outcome));
    } catch (err) {
      waiting.reject(err);
    }
  }

  /** What a call wanting `want` gets from the response. Throws the task's failure; a promise while a schema validates. */
  #value(want: Want, response: TaskResponse): unknown {
    if (want === "response") return response;
    if (response.error) throw TaskError.fromData(response.error);
    if (want === "raw" || response.result === undefined) return response.result;
    let value: unknown;
    try {
      value = JSON.parse(response.result);
    } catch (err) {
      throw new EbindError("invalid_argument", `task ${this.id} (${this.name}): result is not JSON: ${(err as Error).message}`, { cause: err });
    }
    const schema = this.#resultSchema;
    if (!schema) return value;
    const checked = schema["~standard"].validate(value);
    return isPromiseLike(checked) ? Promise.resolve(checked).then((c) => this.#checked(c)) : this.#checked(checked);
  }

  #checked(checked: StandardSchemaV1.Result<unknown>): unknown {
    if (checked.issues) {
      const issues = checked.issues.map((i) => i.message).join("; ");
      throw new EbindError("invalid_argument", `task ${this.id} (${this.name}): result fails its schema: ${issues}`);
    }
    return checked.value;
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === "function";
}

/**
 * @internal The client's way to end a future: with the task's terminal response, or with the error
 * that means none will come (`closed`). The first call wins; later ones are ignored.
 */
export function settleFuture(future: Future<unknown>, outcome: TaskResponse | Error): void {
  settle(future, outcome);
}
