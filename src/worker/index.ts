/**
 * The consumer side: {@link Worker}, middleware, claims, the step hook.
 * @module
 */
export { Worker } from "./worker.js";
export type { AbandonedHandler } from "./worker.js";
export type { WorkerHealth, WorkerConsumer } from "./health.js";
export {
  resolveWorkerOptions,
  DEFAULT_ABORT_GRACE_MS,
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_CLAIM_REFRESH_INTERVAL_MS,
  DEFAULT_CLAIM_RETRY_DELAY_MS,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_ACK_PENDING,
  DEFAULT_MAX_DELIVER,
  DEFAULT_PULL_EXPIRES_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
} from "./options.js";
export type { WorkerOptions, ResolvedWorkerOptions } from "./options.js";
export { chain, recover, log, metrics } from "./middleware.js";
export type { Middleware, TaskHandler, Metrics } from "./middleware.js";
export { claimsFunc, staticClaims, concreteTarget } from "./claims.js";
export type { ClaimProvider } from "./claims.js";
export type { StepHook, StepStart, StepSettled } from "./step-hook.js";
