/**
 * The checks of a client's options and of each enqueue's options (reference §1.2): each names the
 * option it refuses, as EbindError `invalid_argument`.
 * @module
 */
import { EbindError } from "../task/errors.js";
import { validateSubjectToken, validateTarget } from "../task/names.js";
import type { EnqueueOptions } from "./options.js";

/** The task's absolute deadline from `deadline` or `timeoutMs` (from `now`, ms since the epoch). @throws EbindError `invalid_argument`. */
export function resolveDeadline(options: EnqueueOptions, name: string, now: number): Date | undefined {
  if (options.deadline !== undefined) {
    if (!(options.deadline instanceof Date) || Number.isNaN(options.deadline.getTime())) {
      throw new EbindError("invalid_argument", `enqueue ${name}: options.deadline must be a valid Date`);
    }
    return options.deadline;
  }
  if (options.timeoutMs !== undefined) {
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new EbindError("invalid_argument", `enqueue ${name}: options.timeoutMs must be a positive number of ms, got ${String(options.timeoutMs)}`);
    }
    return new Date(now + options.timeoutMs);
  }
  return undefined;
}

/** The longest attempt timeout: what a timer can hold (about 24.8 days). */
const MAX_ATTEMPT_TIMEOUT_MS = 2_147_483_647;

/** The attempt timeout in ms, checked. @throws EbindError `invalid_argument`. */
export function resolveAttemptTimeout(ms: number | undefined, name: string): number | undefined {
  if (ms === undefined) return undefined;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0 || ms > MAX_ATTEMPT_TIMEOUT_MS) {
    throw new EbindError("invalid_argument", `enqueue ${name}: options.attemptTimeoutMs must be a number of ms from 1 to ${MAX_ATTEMPT_TIMEOUT_MS}, got ${String(ms)}`);
  }
  return ms;
}

/** A trace context must map strings to strings (it travels as `trace_ctx`, reference §2.6.1). */
export function checkTraceCtx(ctx: Readonly<Record<string, string>> | undefined, name: string): Readonly<Record<string, string>> | undefined {
  if (ctx === undefined) return undefined;
  const ok = typeof ctx === "object" && ctx !== null && !Array.isArray(ctx) && Object.values(ctx).every((v) => typeof v === "string");
  if (!ok) throw new EbindError("invalid_argument", `enqueue ${name}: options.traceCtx must be an object of string values`);
  return ctx;
}

/** Refuses a publish timeout that would never end or end at once. @throws EbindError `invalid_argument`. */
export function checkPublishTimeout(options: EnqueueOptions, name: string): void {
  const ms = options.publishTimeoutMs;
  if (ms !== undefined && (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0)) {
    throw new EbindError("invalid_argument", `enqueue ${name}: options.publishTimeoutMs must be a positive number of ms, got ${String(ms)}`);
  }
}

/** The task's target, checked (one non-empty claim). @throws EbindError `invalid_argument`. */
export function resolveTarget(target: string | undefined, name: string): string | undefined {
  if (target === undefined) return undefined;
  if (typeof target !== "string" || target.trim().length === 0) {
    throw new EbindError("invalid_argument", `enqueue ${name}: options.target must be a non-empty string`);
  }
  validateTarget(target, `enqueue ${name}: options.target`);
  return target;
}

/** `ebind-resp-`: the prefix of a client's response durable. */
const RESPONSE_DURABLE_PREFIX_CHARS = 11;

/**
 * A client id is one subject token (`RESP.<clientId>.<taskId>`) and part of a durable name
 * (`ebind-resp-<clientId>`), which JetStream limits to 255 bytes without `/`, `\\` or NUL.
 * @throws {EbindError} `invalid_argument` naming the character or the length.
 */
export function validateClientId(id: string): void {
  validateSubjectToken(id, "client.clientId");
  const bad = /[/\\]/.exec(id);
  if (bad !== null) throw new EbindError("invalid_argument", `client.clientId ${JSON.stringify(id)} is invalid: it contains ${JSON.stringify(bad[0])} at ${bad.index}, which a durable name cannot hold`);
  const bytes = new TextEncoder().encode(id).length;
  if (bytes > 255 - RESPONSE_DURABLE_PREFIX_CHARS) {
    throw new EbindError("invalid_argument", `client.clientId is invalid: it is ${bytes} UTF-8 bytes, longer than ${255 - RESPONSE_DURABLE_PREFIX_CHARS} (its durable ebind-resp-<clientId> must fit 255)`);
  }
}
