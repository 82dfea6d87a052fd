/**
 * The dispatcher: what ebind knows about one handler (name, arity, schemas) and the two halves of a
 * call — argument validation and encoding on the producer, decoding, invocation and result encoding
 * on the worker. Reference §1.1 (Dispatcher), §3.5 (error classification).
 * @module
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { EbindError, ErrKind, TaskError, toTaskError } from "./errors.js";
import type { HandlerContext, HandlerFn, HandlerSpec } from "./handler.js";
import { findUnfaithfulJson, stringifyJson } from "./json-safe.js";
import { isStandardSchema, runSchema } from "./schema.js";

/** One declared argument of a handler (after the context). */
export interface ArgType {
  /** Position among the arguments, 0-based. */
  readonly index: number;
  /** The Standard Schema validator declared for it, if any. */
  readonly schema?: StandardSchemaV1 | undefined;
}

/** What {@link Dispatcher}'s constructor needs; build dispatchers with `describe` or `Registry.register`. */
export interface DispatcherInit {
  /** The (already validated) handler name. */
  readonly name: string;
  /** The implementation; absent for a dispatcher built from a `TaskRef`, which cannot `call`. */
  readonly fn?: HandlerFn | undefined;
  /** The handler's declared spec. */
  readonly spec?: HandlerSpec | undefined;
  /** The operation named in error messages, e.g. `"Register"` → `ebind: Register: …`. */
  readonly op?: string | undefined;
}

function decodeFailure(detail: string, cause?: unknown): TaskError {
  return new TaskError(ErrKind.Decode, detail, { retryable: false, cause });
}

/**
 * A handler's signature and calling convention. Immutable; one instance serves every call, and a
 * registry maps the primary name and every alias to the same instance.
 */
export class Dispatcher {
  /** The primary handler name (the `TASKS.<name>` subject token(s)). */
  readonly name: string;
  /**
   * Number of arguments after the context: `spec.arity`, else the number of `spec.args`, else
   * `fn.length - 1` (which does not count default or rest parameters — declare `arity` for those).
   * `undefined` for a `TaskRef` that declares neither: the compiler checks the count, the worker
   * checks it again.
   */
  readonly arity: number | undefined;
  /**
   * Whether {@link arity} is exact (declared through `spec.arity` or `spec.args`) or a minimum
   * (taken from `fn.length`, which leaves out default and rest parameters, so more arguments are
   * legal JavaScript and are passed on).
   */
  readonly arityExact: boolean;
  /** One entry per argument, with its declared schema if any. */
  readonly argTypes: readonly ArgType[];
  /**
   * Always `true` in TypeScript: whether a handler produces a value is known only when it runs.
   * A handler that returns `undefined` produces no result on the wire (Go's error-only handler).
   */
  readonly hasResult: boolean = true;
  /** The declared result schema, if any. */
  readonly resultType: StandardSchemaV1 | undefined;
  readonly #fn: HandlerFn | undefined;

  /**
   * Prefer `describe(fn)` or `Registry.register(fn)`, which derive and validate the name.
   * @throws {EbindError} `invalid_argument` when the spec is inconsistent: `arity` not an integer
   *   ≥ 0, more `args` schemas than `arity`, or a schema that is not a Standard Schema.
   */
  constructor(init: DispatcherInit) {
    const prefix = `ebind: ${init.op ?? "Describe"}: handler "${init.name}"`;
    const spec = init.spec ?? {};
    const schemas: readonly unknown[] = spec.args ?? [];
    if (!Array.isArray(schemas)) throw new EbindError("invalid_argument", `${prefix}: spec.args must be an array of schemas`);
    const arity =
      spec.arity ?? (spec.args !== undefined ? schemas.length : init.fn === undefined ? undefined : Math.max(0, init.fn.length - 1));
    if (arity !== undefined && (!Number.isSafeInteger(arity) || arity < 0)) {
      throw new EbindError("invalid_argument", `${prefix}: spec.arity must be an integer ≥ 0, got ${String(arity)}`);
    }
    if (arity !== undefined && schemas.length > arity) {
      throw new EbindError("invalid_argument", `${prefix}: ${schemas.length} argument schemas for arity ${arity}`);
    }
    const argTypes: ArgType[] = [];
    for (let index = 0; index < (arity ?? 0); index++) {
      const schema: unknown = schemas[index];
      if (schema !== undefined && !isStandardSchema(schema)) {
        throw new EbindError("invalid_argument", `${prefix}: spec.args[${index}] is not a Standard Schema validator`);
      }
      argTypes.push(Object.freeze(schema === undefined ? { index } : { index, schema }));
    }
    if (spec.result !== undefined && !isStandardSchema(spec.result)) {
      throw new EbindError("invalid_argument", `${prefix}: spec.result is not a Standard Schema validator`);
    }
    this.name = init.name;
    this.arity = arity;
    this.arityExact = spec.arity !== undefined || spec.args !== undefined;
    this.argTypes = Object.freeze(argTypes);
    this.resultType = spec.result;
    this.#fn = init.fn;
    Object.freeze(this);
  }

  /**
   * Why `count` arguments do not fit this handler (`"want 2, got 3"`, `"want at least 1, got 0"`),
   * or undefined when they do (or the arity is unknown).
   */
  countProblem(count: number): string | undefined {
    if (this.arity === undefined) return undefined;
    if (this.arityExact ? count === this.arity : count >= this.arity) return undefined;
    return `want ${this.arityExact ? "" : "at least "}${this.arity}, got ${count}`;
  }

  /** Whether this dispatcher has an implementation (`false` when built from a `TaskRef`). */
  get callable(): boolean {
    return this.#fn !== undefined;
  }

  /**
   * Producer-side check, before anything is published. In order:
   * 1. `args.length` must match {@link arity} when it is known (exactly, or at least, see
   *    {@link arityExact}), else TaskError `arg_count`: `arg count: want N, got M`;
   * 2. each argument must survive JSON (see `findUnfaithfulJson`), else TaskError `arg_type`:
   *    `arg 1.items[3]: BigInt cannot be carried by JSON`;
   * 3. each argument with a schema must pass it, else TaskError `arg_type`:
   *    `arg 0 at .user.email: Invalid email address`. The schema sees the argument as the worker will
   *    (after a JSON round trip), so a `Date` argument meets a `z.date()` schema as a string.
   * All errors are non-retryable.
   */
  async validateArgs(args: readonly unknown[]): Promise<void> {
    const problem = this.countProblem(args.length);
    if (problem !== undefined) throw new TaskError(ErrKind.ArgCount, `arg count: ${problem}`, { retryable: false });
    for (const [i, arg] of args.entries()) {
      const problem = findUnfaithfulJson(arg, `arg ${i}`);
      if (problem !== undefined) throw new TaskError(ErrKind.ArgType, problem, { retryable: false });
    }
    for (const { index, schema } of this.argTypes) {
      if (schema === undefined) continue;
      const asSent: unknown = jsonRoundTrip(args[index]);
      const outcome = await runSchema(schema, asSent, `arg ${index}`);
      if (!outcome.ok) throw new TaskError(ErrKind.ArgType, outcome.problem, { retryable: false });
    }
  }

  /**
   * The payload for `args`: a JSON array text. Call {@link validateArgs} first; this only encodes.
   * A `-0` is written as `-0`, so it arrives as `-0` (see `stringifyJson`).
   * @throws {TaskError} `arg_type` when `JSON.stringify` fails (for example a `toJSON` that throws).
   */
  encodeArgs(args: readonly unknown[]): string {
    try {
      return stringifyJson(args) as string;
    } catch (e) {
      throw new TaskError(ErrKind.ArgType, `encode args: ${e instanceof Error ? e.message : String(e)}`, { retryable: false, cause: e });
    }
  }

  /**
   * Worker side: decodes `payload`, validates, runs the handler and encodes its result.
   *
   * - payload `""`, whitespace or `null` → zero arguments; anything else must be a JSON array, else
   *   TaskError `decode`: `payload is not a JSON array: …`;
   * - argument count ≠ {@link arity} → TaskError `arg_count`: `want N args, got M`;
   * - an argument failing its schema → TaskError `decode`: `arg 0 at .user.email: …`; otherwise the
   *   handler receives the schema's output (transforms and defaults applied);
   * - the handler's thrown value goes through `toTaskError`: a TaskError anywhere in the `cause`
   *   chain is kept as is, anything else becomes kind `handler`, retryable;
   * - result `undefined` → `undefined` (no result on the wire); a result JSON cannot carry → TaskError
   *   `decode`: `marshal result: …`; failing the result schema → TaskError `decode`: `result at …`;
   *   otherwise the JSON text of the (schema's output) value, `-0` written as `-0`.
   *
   * Every error ebind raises here is non-retryable.
   * @throws {EbindError} `invalid_argument` when the dispatcher was built from a `TaskRef`.
   */
  async call(ctx: HandlerContext, payload: string): Promise<string | undefined> {
    const fn = this.#fn;
    if (fn === undefined) {
      throw new EbindError("invalid_argument", `ebind: handler "${this.name}" is a TaskRef with no implementation and cannot be called`);
    }
    const args = decodePayload(payload);
    if (this.countProblem(args.length) !== undefined) {
      const want = this.arityExact ? `${this.arity}` : `at least ${this.arity}`;
      throw new TaskError(ErrKind.ArgCount, `want ${want} args, got ${args.length}`, { retryable: false });
    }
    for (const { index, schema } of this.argTypes) {
      if (schema === undefined) continue;
      const outcome = await runSchema(schema, args[index], `arg ${index}`);
      if (!outcome.ok) throw decodeFailure(outcome.problem);
      args[index] = outcome.value;
    }
    let out: unknown;
    try {
      out = await fn(ctx, ...args);
    } catch (e) {
      throw toTaskError(e);
    }
    if (out === undefined) return undefined;
    return this.#encodeResult(out);
  }

  async #encodeResult(out: unknown): Promise<string | undefined> {
    const problem = findUnfaithfulJson(out, "result");
    if (problem !== undefined) throw decodeFailure(`marshal result: ${problem}`);
    let value = out;
    if (this.resultType !== undefined) {
      const outcome = await runSchema(this.resultType, out, "result");
      if (!outcome.ok) throw decodeFailure(outcome.problem);
      value = outcome.value;
      const outputProblem = findUnfaithfulJson(value, "result");
      if (outputProblem !== undefined) throw decodeFailure(`marshal result: ${outputProblem}`);
    }
    let text: string | undefined;
    try {
      text = stringifyJson(value);
    } catch (e) {
      throw decodeFailure(`marshal result: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    // Unreachable for a toJSON returning undefined (refused above); kept for a value JSON.stringify skips.
    return text;
  }
}

function decodePayload(payload: string): unknown[] {
  const text = payload.trim();
  if (text === "" || text === "null") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw decodeFailure(`payload is not a JSON array: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  if (!Array.isArray(parsed)) {
    throw decodeFailure(`payload is not a JSON array: got ${parsed === null ? "null" : typeof parsed}`);
  }
  return parsed;
}

function jsonRoundTrip(value: unknown): unknown {
  if (value === undefined) return undefined;
  const text = stringifyJson(value);
  return text === undefined ? undefined : JSON.parse(text);
}
