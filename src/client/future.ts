/**
 * {@link Future}: the pending result of an enqueued task (reference §1.2, §3.8).
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

/**
 * The pending outcome of one task. The response is routed to it by task id; awaiting it does not
 * consume it, so `result()` may be called any number of times. Never rejects unobserved: a task
 * nobody awaits does not crash the process with an unhandled rejection.
 */
export class Future<R> {
  /**
   * @internal Created by the client.
   * @param id the task id.
   * @param name the handler name.
   * @param response settles with the task's terminal response, or rejects when the client closes.
   */
  constructor(
    readonly id: string,
    readonly name: string,
    private readonly response: Promise<TaskResponse>,
    private readonly resultSchema?: StandardSchemaV1 | undefined,
  ) {
    response.catch(() => undefined);
  }

  /**
   * The handler's result, decoded from JSON (and validated by the handler's result schema, if it
   * declared one).
   * @throws TaskError the task's terminal failure, with its kind, message and retryable flag.
   * @throws EbindError `closed` if the client closed first, `timeout` / the signal's reason per
   *   {@link AwaitOptions}, `invalid_argument` for a bad `timeoutMs` or a result that fails the declared schema.
   */
  async result(options: AwaitOptions = {}): Promise<R> {
    const raw = await this.resultRaw(options);
    if (raw === undefined) return undefined as R;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new EbindError("invalid_argument", `task ${this.id} (${this.name}): result is not JSON: ${(err as Error).message}`, { cause: err });
    }
    if (this.resultSchema) {
      const checked = await this.resultSchema["~standard"].validate(value);
      if (checked.issues) {
        const issues = checked.issues.map((i) => i.message).join("; ");
        throw new EbindError("invalid_argument", `task ${this.id} (${this.name}): result fails its schema: ${issues}`);
      }
      return checked.value as R;
    }
    return value as R;
  }

  /**
   * The result as raw JSON text exactly as the worker sent it (`"5"` for the number 5), or
   * `undefined` for a handler that returned nothing. Throws like {@link result}.
   */
  async resultRaw(options: AwaitOptions = {}): Promise<string | undefined> {
    const response = await this.#wait(options);
    if (response.error) throw TaskError.fromData(response.error);
    return response.result;
  }

  /** The full terminal response (attempts, completion time…); throws only for closed/timeout/abort. */
  outcome(options: AwaitOptions = {}): Promise<TaskResponse> {
    return this.#wait(options);
  }

  #wait(options: AwaitOptions): Promise<TaskResponse> {
    const { signal, timeoutMs } = options;
    if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0)) {
      return Promise.reject(new EbindError("invalid_argument", `task ${this.id} (${this.name}): timeoutMs must be a finite number of ms ≥ 0, got ${String(timeoutMs)}`));
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(new EbindError("invalid_argument", `task ${this.id} (${this.name}): signal must be an AbortSignal`));
    }
    if (!signal && timeoutMs === undefined) return this.response;
    return new Promise<TaskResponse>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = (): void => {
        cleanup();
        reject(signal?.reason instanceof Error ? signal.reason : new EbindError("timeout", `task ${this.id} (${this.name}): wait aborted`));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(new EbindError("timeout", `task ${this.id} (${this.name}): no result within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.response.then(
        (r) => {
          cleanup();
          resolve(r);
        },
        (e: unknown) => {
          cleanup();
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }
}
