/**
 * Worker options, their defaults (reference §1.3, DESIGN.md §4) and the one function that
 * resolves them. Caller objects are never modified.
 * @module
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../broker/logger.js";
import { resolveLogger } from "../broker/logger.js";
import { resolveClock, type Clock } from "../broker/clock.js";
import { DEFAULT_WORKER_DURABLE } from "../broker/topology.js";
import { EbindError } from "../task/errors.js";
import { MAX_DELAY_MS, RetryPolicy, type RetryPolicyOptions } from "../task/retry.js";
import { validateSubjectToken, validateTarget } from "../task/names.js";
import type { ClaimProvider } from "./claims.js";
import { staticClaims } from "./claims.js";
import type { Middleware } from "./middleware.js";
import type { Telemetry } from "../broker/telemetry.js";
import { safeTelemetry, type SafeTelemetry } from "../broker/telemetry-guard.js";
import type { StepHook } from "./step-hook.js";

/** Default handler concurrency per worker. */
export const DEFAULT_CONCURRENCY = 16;
/**
 * Default consumer ack wait: 10 s. It is also how long a crashed worker's tasks wait before they run
 * elsewhere; running handlers are kept alive by in-progress acks, so it does not limit their length.
 */
export const DEFAULT_ACK_WAIT_MS = 10_000;
/** Default time a handler has to return after its abort before its slot is given back: 10 s. */
export const DEFAULT_ABORT_GRACE_MS = 10_000;
/** Default consumer max deliver: unlimited (the retry policy decides). */
export const DEFAULT_MAX_DELIVER = -1;
/** Default nak delays of the legacy path (no policy anywhere): 1 s, 5 s, 15 s, 1 min, 5 min. */
export const DEFAULT_BACKOFF_MS: readonly number[] = Object.freeze([1_000, 5_000, 15_000, 60_000, 300_000]);
/** Default drain time at shutdown: 30 s. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
/** Default claim refresh interval: 2 s. */
export const DEFAULT_CLAIM_REFRESH_INTERVAL_MS = 2_000;
/** Default nak delay for a targeted task this worker no longer owns: 1 s. */
export const DEFAULT_CLAIM_RETRY_DELAY_MS = 1_000;
/** Default expiry of each pull: 2 s (nats-2.9-notes.md item 3: 2–5 s; shorter drains faster at shutdown). */
export const DEFAULT_PULL_EXPIRES_MS = 2_000;
/** Default consumer max ack pending across all workers (nak-delayed retries count against it). */
export const DEFAULT_MAX_ACK_PENDING = 20_000;
/** Default inactivity after which the server removes a claim's consumer: 1 h. */
export const DEFAULT_CLAIM_CONSUMER_INACTIVE_MS = 3_600_000;

/** Options of a worker. All optional. */
export interface WorkerOptions {
  /** Handlers running at once, shared by all of the worker's consumers. @default 16 */
  readonly concurrency?: number | undefined;
  /**
   * How long a delivery may go without an ack or an in-progress signal before the server redelivers
   * it: the time a crashed worker's tasks wait before another worker runs them. While a handler
   * runs, the worker sends in-progress acks every third of this (from a thread of its own on NATS,
   * so a handler that blocks the event loop is kept alive too): keep it short and do not raise it
   * for slow handlers. A consumer property shared by every worker of the durable (see
   * {@link updateConsumer}). @default 10000 (ebind for Go: 30000)
   */
  readonly ackWaitMs?: number | undefined;
  /**
   * The most attempts a task gets, counted by the worker over the deliveries that ran it; -1 =
   * unlimited (the retry policy decides). The attempt that reaches it is the last: it ends in a
   * response and a DLQ entry. A task delivered again after its last allowed attempt — this cap or
   * its retry policy's `maximumAttempts`, whichever is lower (the default policy's 5 when there is
   * none) — because its worker died during it, is dead-lettered with kind `max_deliver` and its
   * original bytes, without running. Hand-backs (a missing handler, a shutdown) spend no attempt.
   * Without a retry policy anywhere it also caps attempts (reference §3.3). Unlike ebind for Go,
   * the durable consumer itself is created with no max deliver, so the server never gives up on a
   * message silently (nats-2.9-notes: such a message would stay in the stream forever).
   * @default -1
   */
  readonly maxDeliver?: number | undefined;
  /** Nak delays by attempt when no retry policy applies (reference §3.3); the last entry repeats. @default [1000, 5000, 15000, 60000, 300000] */
  readonly backoffMs?: readonly number[] | undefined;
  /**
   * How long {@link Worker.close} waits for running handlers. Past it, their signals abort and their
   * tasks are handed back to the queue (that attempt records nothing). @default 30000
   */
  readonly shutdownGraceMs?: number | undefined;
  /**
   * How long a handler has to return once its signal aborted (deadline, attempt timeout, cancel,
   * shutdown). The attempt's outcome is recorded at the abort; a handler still running this long
   * afterwards is abandoned: logged as an error, listed by `Worker.abandoned()`, and its slot given
   * back so the worker keeps serving (JavaScript cannot stop a function that ignores its signal; it
   * runs on, and the worker may briefly run more handlers than `concurrency`). @default 10000
   */
  readonly abortGraceMs?: number | undefined;
  /**
   * The longest one attempt may run, in ms, for tasks that carry no `attemptTimeoutMs` of their
   * own; past it the attempt fails with kind `timeout` (retryable). @default none
   */
  readonly attemptTimeoutMs?: number | undefined;
  /** User middleware, first = outermost, inside the always-present `recover`. */
  readonly middleware?: readonly Middleware[] | undefined;
  /** Terminal-outcome observer (the workflow layer). */
  readonly stepHook?: StepHook | undefined;
  /** Retry policy for tasks that carry none. Missing fields take the default policy's values. */
  readonly defaultRetryPolicy?: RetryPolicyOptions | RetryPolicy | undefined;
  /** This worker's identity, used in `worker:<id>` and recorded on tasks it runs. @default a random UUID */
  readonly workerId?: string | undefined;
  /** Logical claims: a provider, or a fixed list. */
  readonly claims?: ClaimProvider | readonly string[] | undefined;
  /** How often the claim provider is asked again. @default 2000 */
  readonly claimRefreshIntervalMs?: number | undefined;
  /**
   * How long this worker holds a task it cannot run before handing it back to the queue: a task
   * whose handler it lacks, a targeted task whose claim it no longer holds, a workflow step when
   * it has no step hook. The hand-back spends none of the task's attempts; the task waits, going
   * round the workers, until one that can run it takes it or its deadline passes. @default 1000
   */
  readonly claimRetryDelayMs?: number | undefined;
  /** Name of the durable shared by all workers for untargeted tasks. @default "ebind-worker" */
  readonly durable?: string | undefined;
  /** Where the worker logs. @default consoleLogger("warn") */
  readonly logger?: Logger | undefined;
  /** Expiry of each pull; also the longest a shutdown waits for the last pull to drain. @default 2000 */
  readonly pullExpiresMs?: number | undefined;
  /** Consumer max ack pending (all workers together). @default 20000 */
  readonly maxAckPending?: number | undefined;
  /**
   * `ackWaitMs`, `maxDeliver` and `maxAckPending` belong to the durable consumer, which every worker
   * using it shares. When the durable already exists with other values, a worker keeps them (and logs
   * a warning), so one worker cannot change them under the others. Set this to change them for all;
   * restart the other workers afterwards. @default false
   */
  readonly updateConsumer?: boolean | undefined;
  /**
   * Where in-progress acks and deadlines take their time from. Tests that drive a memory broker with
   * a `ManualClock` pass the same clock here, so ack waits, heartbeats and deadlines all move
   * together. @default systemClock
   */
  readonly clock?: Clock | undefined;
  /**
   * Honour task-name pauses (`pauseTask`): watch the KV bucket `ebind-task-pauses` and park the
   * tasks of a paused name in `EBIND_PARKED` instead of running them. Turn it off for a worker whose
   * NATS user may not use that bucket (it then runs paused names' tasks, as ebind for Go does).
   * @default true
   */
  readonly taskPauses?: boolean | undefined;
  /**
   * An observer of this worker's attempts and dead letters (`ebind/otel`'s `openTelemetry()`, a
   * Prometheus adapter, several through `combineTelemetry`). Per admitted delivery the worker calls
   * `attempt` just before the handler runs (after admission and the workflow's start gate; a
   * delivery handed back or failed without running is no attempt), runs the handler chain inside
   * the scope's `run`, and calls `end` once the outcome is decided and recorded; `deadLetter` for
   * every entry it writes, inside the attempt's `run` when an attempt caused it. A hook that throws
   * is logged once (per hook, at warn) and ignored. @default none (no hook code runs)
   * @throws EbindError `invalid_argument` at construction when it is not an object of functions.
   */
  readonly telemetry?: Telemetry | undefined;
}

/** {@link WorkerOptions} with every default applied. */
export interface ResolvedWorkerOptions {
  readonly concurrency: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly backoffMs: readonly number[];
  readonly shutdownGraceMs: number;
  readonly abortGraceMs: number;
  readonly attemptTimeoutMs: number | undefined;
  readonly middleware: readonly Middleware[];
  readonly stepHook: StepHook | undefined;
  readonly defaultRetryPolicy: RetryPolicy | undefined;
  readonly workerId: string;
  readonly claims: ClaimProvider | undefined;
  readonly claimRefreshIntervalMs: number;
  readonly claimRetryDelayMs: number;
  readonly taskPauses: boolean;
  readonly durable: string;
  readonly logger: Logger;
  readonly pullExpiresMs: number;
  readonly maxAckPending: number;
  readonly updateConsumer: boolean;
  readonly clock: Clock;
  /** The telemetry option, checked and wrapped so its hooks never throw; undefined when none. */
  readonly telemetry: SafeTelemetry | undefined;
}

function integer(value: number | undefined, fallback: number, path: string, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new EbindError("invalid_argument", `worker.${path} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** The longest duration a timer can hold (about 24.8 days); longer ones would fire at once. */
const MAX_DURATION_MS = MAX_DELAY_MS;

function duration(value: number | undefined, fallback: number, path: string, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > MAX_DURATION_MS) {
    throw new EbindError("invalid_argument", `worker.${path} must be a number of ms from ${min} to ${MAX_DURATION_MS}, got ${String(value)}`);
  }
  return value;
}

function resolveClaims(claims: WorkerOptions["claims"]): ClaimProvider | undefined {
  if (claims === undefined) return undefined;
  if (Array.isArray(claims)) {
    claims.forEach((c: unknown, i) => {
      if (typeof c !== "string") throw new EbindError("invalid_argument", `worker.claims[${i}] must be a string, got ${typeof c}`);
      if (c.trim().length === 0) throw new EbindError("invalid_argument", `worker.claims[${i}] must be a non-empty string (a task's target cannot be empty)`);
      validateTarget(c.trim(), `worker.claims[${i}]`);
    });
    return staticClaims(...(claims as string[]));
  }
  if (typeof claims === "object" && claims !== null && typeof (claims as ClaimProvider).claims === "function") return claims as ClaimProvider;
  throw new EbindError("invalid_argument", `worker.claims must be an array of strings or a ClaimProvider (an object with a claims() method), got ${typeof claims}`);
}

/**
 * Applies defaults and checks every option.
 * @throws EbindError `invalid_argument` naming the option, e.g. "worker.concurrency must be an integer ≥ 1, got 0".
 */
export function resolveWorkerOptions(options: WorkerOptions = {}): ResolvedWorkerOptions {
  const maxDeliver = integer(options.maxDeliver, DEFAULT_MAX_DELIVER, "maxDeliver", -1);
  if (maxDeliver === 0) throw new EbindError("invalid_argument", "worker.maxDeliver must be -1 (unlimited) or ≥ 1, got 0");
  const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  if (backoffMs.length === 0) throw new EbindError("invalid_argument", "worker.backoffMs must have at least one entry");
  backoffMs.forEach((ms, i) => duration(ms, 0, `backoffMs[${i}]`));
  const workerId = options.workerId ?? randomUUID();
  validateSubjectToken(workerId, "worker.workerId");
  const durable = options.durable ?? DEFAULT_WORKER_DURABLE;
  validateSubjectToken(durable, "worker.durable");
  const claims = resolveClaims(options.claims);
  const middleware = options.middleware ?? [];
  middleware.forEach((mw: unknown, i) => {
    if (typeof mw !== "function") throw new EbindError("invalid_argument", `worker.middleware[${i}] must be a function (next) => handler, got ${typeof mw}`);
  });
  const logger = resolveLogger(options.logger, "worker.logger");
  return Object.freeze({
    concurrency: integer(options.concurrency, DEFAULT_CONCURRENCY, "concurrency", 1),
    ackWaitMs: duration(options.ackWaitMs, DEFAULT_ACK_WAIT_MS, "ackWaitMs", 100),
    maxDeliver,
    backoffMs: Object.freeze([...backoffMs]),
    shutdownGraceMs: duration(options.shutdownGraceMs, DEFAULT_SHUTDOWN_GRACE_MS, "shutdownGraceMs"),
    abortGraceMs: duration(options.abortGraceMs, DEFAULT_ABORT_GRACE_MS, "abortGraceMs"),
    attemptTimeoutMs: options.attemptTimeoutMs === undefined ? undefined : duration(options.attemptTimeoutMs, 0, "attemptTimeoutMs", 1),
    middleware: Object.freeze([...middleware]),
    taskPauses: options.taskPauses ?? true,
    stepHook: options.stepHook,
    defaultRetryPolicy: options.defaultRetryPolicy === undefined ? undefined : RetryPolicy.from(options.defaultRetryPolicy),
    workerId,
    claims,
    claimRefreshIntervalMs: duration(options.claimRefreshIntervalMs, DEFAULT_CLAIM_REFRESH_INTERVAL_MS, "claimRefreshIntervalMs", 10),
    claimRetryDelayMs: duration(options.claimRetryDelayMs, DEFAULT_CLAIM_RETRY_DELAY_MS, "claimRetryDelayMs"),
    durable,
    logger,
    pullExpiresMs: duration(options.pullExpiresMs, DEFAULT_PULL_EXPIRES_MS, "pullExpiresMs", 1000),
    maxAckPending: integer(options.maxAckPending, DEFAULT_MAX_ACK_PENDING, "maxAckPending", 1),
    updateConsumer: options.updateConsumer === true,
    clock: resolveClock(options.clock, "worker.clock"),
    telemetry: safeTelemetry(options.telemetry, logger, "worker.telemetry"),
  });
}
