/**
 * The pure task core of ebind: envelope types and their wire codec, `TaskError` and error kinds,
 * `RetryPolicy`, handler definition, `Registry` and `Dispatcher`. No I/O.
 *
 * @example
 * import { defineHandler, Registry, describe, RetryPolicy } from "ebind/task";
 *
 * const greet = defineHandler("main.Greet", async (_ctx, who: string) => `hello ${who}`);
 * const registry = new Registry();
 * registry.register(greet);
 *
 * const d = describe(greet);
 * await d.validateArgs(["world"]);    // producer side
 * const payload = d.encodeArgs(["world"]); // '["world"]'
 * new RetryPolicy({ maximumAttempts: 3 }).nextDelay(2); // 2000 ms
 * @module
 */
export { EbindError, EbindErrorCode, ErrKind, TaskError, toTaskError } from "./errors.js";
export type { TaskErrorData } from "./errors.js";
export type { DlqEntry, RawMessage, Response, Task, TaskResponse } from "./envelope.js";
export { HANDLER_SPEC } from "./handler.js";
export type { ArgSchemas, ArgsOf, DefinedHandler, HandlerContext, HandlerFn, HandlerSpec, ResultOf, TaskRef } from "./handler.js";
export {
  DEFAULT_RETRY_POLICY,
  MAX_DELAY_MS,
  MAX_WIRE_INTERVAL_MS,
  RetryPolicy,
  defaultRetryPolicy,
  noRetryPolicy,
} from "./retry.js";
export type { RetryPolicyData, RetryPolicyOptions } from "./retry.js";
export { ZERO_TIME, ZERO_TIME_MS, formatTime, msToNanos, nanosToMs, parseTime } from "./time.js";
export { MAX_JSON_DEPTH, isJsonArrayText, parseArrayRaw, parseObjectRaw, validateJson } from "./rawjson.js";
export {
  decodeDlqEntry,
  decodeResponse,
  decodeRetryPolicy,
  decodeTask,
  decodeTaskError,
  encodeDlqEntry,
  encodeResponse,
  encodeRetryPolicy,
  encodeTask,
  encodeTaskError,
} from "./codec.js";
export { findUnfaithfulJson, stringifyJson } from "./json-safe.js";
export { RawJson, rawJson } from "./raw-json.js";
export { MAX_NAME_LENGTH, b64url, validateHandlerName, validateKeyToken, validateSubjectToken, validateTarget } from "./names.js";
export { formatIssuePath, formatIssues, isStandardSchema } from "./schema.js";
export { Dispatcher } from "./dispatcher.js";
export type { ArgType, DispatcherInit } from "./dispatcher.js";
export { canonicalName, describe, isTaskRef, specOf } from "./describe.js";
export { defineHandler, taskRef } from "./define.js";
export { Registry, alias, withName } from "./registry.js";
export type { RegisterOption } from "./registry.js";
