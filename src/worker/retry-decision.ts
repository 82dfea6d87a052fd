/**
 * Whether a failed attempt is retried, and after how long (reference §3.3), with DESIGN.md §4's
 * fix: the delivery that reaches the consumer's max deliver is always the last one.
 * @module
 */
import type { Task } from "../task/envelope.js";
import type { TaskError } from "../task/errors.js";
import { defaultRetryPolicy, RetryPolicy } from "../task/retry.js";
import type { ResolvedWorkerOptions } from "./options.js";

const fallbackPolicy = defaultRetryPolicy();

/** The policy in force for `task`: its own, else the worker's default, else none (legacy path). */
function policyFor(task: Task, options: ResolvedWorkerOptions): RetryPolicy | undefined {
  if (task.retryPolicy) return RetryPolicy.from(task.retryPolicy);
  return options.defaultRetryPolicy;
}

/**
 * Reference §3.3, first matching row: task policy; worker default policy; `maxDeliver > 0` (retryable
 * and attempt < maxDeliver); the default policy (5 attempts). Then, whatever the row said, no retry
 * once the attempt reaches the worker's `maxDeliver`, or once the consumer will not redeliver.
 * @param attempt the true attempt: the deliveries that ran the task, this one included.
 * @param serverMaxDeliver the max deliver of the consumer the delivery came from, as the server
 *   holds it (-1 for consumers this worker created; a durable made by ebind for Go may have one).
 * @param deliveryCount the delivery's count on that consumer (smaller than the attempt for a task
 *   that was parked or handed back: those start a new message).
 */
export function shouldRetry(task: Task, err: TaskError, attempt: number, options: ResolvedWorkerOptions, serverMaxDeliver: number, deliveryCount = attempt): boolean {
  const policy = policyFor(task, options);
  const cap = options.maxDeliver;
  let retry: boolean;
  if (policy) retry = policy.shouldRetry(err, attempt);
  else if (cap > 0) retry = err.retryable && attempt < cap;
  else retry = fallbackPolicy.shouldRetry(err, attempt);
  if (cap > 0 && attempt >= cap) return false;
  if (serverMaxDeliver > 0 && deliveryCount >= serverMaxDeliver) return false;
  return retry;
}

/**
 * The most attempts `task` may have: its policy's maximum (task policy, else the worker default),
 * else the worker's `maxDeliver`, else the default policy's (5); 0 = unlimited. A crash cuts an
 * attempt short: the delivery after the last allowed one is dead-lettered without running.
 */
export function maxAttempts(task: Task, options: ResolvedWorkerOptions): number {
  const policy = policyFor(task, options);
  const fromPolicy = policy ? policy.maximumAttempts : options.maxDeliver > 0 ? options.maxDeliver : fallbackPolicy.maximumAttempts;
  if (options.maxDeliver > 0 && (fromPolicy <= 0 || options.maxDeliver < fromPolicy)) return options.maxDeliver;
  return fromPolicy;
}

/** Reference §3.3: the policy's `nextDelay(attempt)`, else `backoffMs[attempt-1]` clamped to the last entry. */
export function retryDelayMs(task: Task, attempt: number, options: ResolvedWorkerOptions): number {
  const policy = policyFor(task, options);
  if (policy) return policy.nextDelay(attempt);
  const backoff = options.backoffMs;
  const index = Math.min(Math.max(attempt - 1, 0), backoff.length - 1);
  return backoff[index] ?? 0;
}
