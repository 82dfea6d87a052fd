/**
 * Client and enqueue options (reference §1.2), with their checks.
 * @module
 */
import type { Clock } from "../broker/clock.js";
import type { Logger } from "../broker/logger.js";
import type { Telemetry } from "../broker/telemetry.js";
import type { RetryPolicy, RetryPolicyOptions } from "../task/retry.js";

/** Options of a client. */
export interface ClientOptions {
  /**
   * This client's id: responses come back on `RESP.<clientId>.<taskId>` through the durable
   * `ebind-resp-<clientId>`, so it must be one subject token that a durable name can hold: no
   * whitespace, control characters, lone surrogates, `.`, `*`, `>`, `/` or `\\`, at most 244 UTF-8
   * bytes (letters, digits, `_` and `-` are always safe). Must be unique among live clients:
   * two clients with one id share the durable, and each would receive half of the other's
   * responses. @default a random UUID
   */
  readonly clientId?: string | undefined;
  /** Where the client logs. @default consoleLogger("warn") */
  readonly logger?: Logger | undefined;
  /** How long the server keeps this client's response consumer after it disappears. @default 600000 (10 min) */
  readonly inactiveThresholdMs?: number | undefined;
  /** Where `enqueued_at` and relative deadlines (`timeoutMs`) take their time from; for tests. @default systemClock */
  readonly clock?: Clock | undefined;
  /**
   * An observer of this client's enqueues (`ebind/otel`'s `openTelemetry()`, a Prometheus adapter,
   * several through `combineTelemetry`). Per enqueue, after the arguments were checked, the client
   * calls `publish({ kind: "enqueue", task, subject })`; the trace context its scope returns is
   * carried as the task's `trace_ctx` in place of `EnqueueOptions.traceCtx`, and the scope's `end`
   * is called once the server stored the task (or with the error that refused it). A hook that
   * throws is logged once (per hook, at warn) and ignored. @default none (no hook code runs)
   * @throws EbindError `invalid_argument` at `Client.create` when it is not an object of functions.
   */
  readonly telemetry?: Telemetry | undefined;
}

/** Per-task options of `enqueueWith`. All optional. */
export interface EnqueueOptions {
  /** Absolute deadline: past it the task fails with kind `deadline` (before or while it runs). */
  readonly deadline?: Date | undefined;
  /**
   * Relative deadline in ms from now, for the whole task (every attempt and the waits between
   * them); ignored when `deadline` is set. On the wire it is an absolute `deadline` (reference
   * §2.6.1); workers measure it on their own clock from the time the server stored the task, so
   * clocks that disagree between producer and worker do not stretch or shorten it. Past it the task
   * fails with kind `deadline`, not retried.
   */
  readonly timeoutMs?: number | undefined;
  /**
   * The longest one attempt may run, in ms, measured on the worker's clock from the attempt's
   * start (BullMQ's job timeout, Temporal's start-to-close timeout). Past it the handler's signal
   * aborts and the attempt fails with kind `timeout`, which the retry policy may retry. Overrides
   * the worker's `attemptTimeoutMs`. From 1 to 2147483647, else `invalid_argument`. @default none
   */
  readonly attemptTimeoutMs?: number | undefined;
  /**
   * W3C trace context to carry (`traceparent`, `tracestate`; reference §2.6.1 `trace_ctx`), an
   * object of strings. With a {@link ClientOptions.telemetry} set, the telemetry's publish scope
   * decides what the task carries (`ebind/otel` makes it the parent of the enqueue's span when no
   * span is active).
   */
  readonly traceCtx?: Readonly<Record<string, string>> | undefined;
  /** Retry policy for this task, overriding the worker's. Missing fields take the default policy's values. */
  readonly retryPolicy?: RetryPolicyOptions | RetryPolicy | undefined;
  /** Run only on a worker holding this claim (`"gpu"`, or `"worker:<id>"` for one worker). */
  readonly target?: string | undefined;
  /**
   * Give up publishing after this many ms (the publish is retried through leader elections); a
   * positive finite number, else `invalid_argument`. @default 15000
   */
  readonly publishTimeoutMs?: number | undefined;
}

/** Default inactivity threshold of a client's response consumer: 10 min. */
export const DEFAULT_RESPONSE_INACTIVE_MS = 10 * 60_000;
