/**
 * Handlers and typed references to them.
 *
 * A handler is a plain function `(ctx, ...args) => result | Promise<result>`. Producers enqueue it by
 * reference (the function itself, or a {@link TaskRef} when they must not import the implementation);
 * the compiler checks the arguments against the handler's own parameter list and types the awaited
 * result. Reference: §1.1 (Registry, Dispatcher), DESIGN.md §4 (names, validation).
 * @module
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Task } from "./envelope.js";
import type { RawJson } from "./raw-json.js";

/** What a running handler knows about its task. */
export interface HandlerContext {
  /**
   * Aborted when the task's deadline passes (the task then fails with kind `deadline`) or when the
   * worker gives up on the handler during shutdown. Pass it to I/O that accepts a signal.
   */
  readonly signal: AbortSignal;
  /** The envelope as delivered, with `attempt` and `workerId` set by the worker. */
  readonly task: Task;
  /** The delivery count of this attempt, 1 on the first delivery. */
  readonly attempt: number;
  /** The id of the worker running the handler. */
  readonly workerId: string;
  /** The task's absolute deadline, if it has one. */
  readonly deadline?: Date | undefined;
}

/** Any handler: a function whose first parameter is the {@link HandlerContext}. */
export type HandlerFn = (ctx: HandlerContext, ...args: any[]) => unknown;

/** The argument tuple of a handler or reference, without the context. */
export type ArgsOf<T> =
  T extends TaskRef<infer A, any> ? A : T extends (ctx: HandlerContext, ...args: infer A) => unknown ? A : never;

/**
 * The awaited result type of a handler or reference (`void` for handlers that return nothing); a
 * handler returning `RawJson<V>` (verbatim JSON text) has the result type `V`.
 */
export type ResultOf<T> =
  T extends TaskRef<any, infer R> ? R : T extends (...args: any[]) => infer R ? Unraw<Awaited<R>> : never;

/** `V` for a `RawJson<V>`, anything else unchanged. */
type Unraw<R> = R extends RawJson<infer V> ? V : R;

/** Per-argument Standard Schema validators: each entry validates the argument at the same index. */
export type ArgSchemas<A extends readonly unknown[]> = { readonly [K in keyof A]?: StandardSchemaV1<unknown, A[K]> | undefined };

/** What a handler declares about itself beyond its code. */
export interface HandlerSpec<A extends readonly unknown[] = unknown[], R = unknown> {
  /**
   * The name producers and workers agree on, routed as `TASKS.<name>`. Default: the function's own
   * `name`. To serve tasks from Go producers use the Go canonical name (for example `"main.Greet"`).
   * Must be a valid NATS subject: dot-separated non-empty tokens without whitespace, `*` or `>`.
   */
  readonly name?: string | undefined;
  /**
   * Standard Schema validators (zod, valibot, arktype…) for the arguments, by position. The producer
   * validates before publishing (kind `arg_type`), the worker after decoding (kind `decode`).
   * Declaring them also fixes the handler's arity to their count.
   */
  readonly args?: ArgSchemas<A> | undefined;
  /** A Standard Schema validator for the result, checked by the worker before it is sent. */
  readonly result?: StandardSchemaV1<unknown, R> | undefined;
  /**
   * The number of arguments after the context. Default: the length of `args` when given, else
   * `fn.length - 1`. Declare it for handlers with default or rest parameters, which `fn.length`
   * does not count.
   */
  readonly arity?: number | undefined;
}

/**
 * A typed reference to a handler that lives elsewhere (another service, another language): the name
 * plus, at compile time, the argument and result types. Create one with `taskRef`.
 */
export interface TaskRef<A extends readonly unknown[] = unknown[], R = unknown> {
  readonly kind: "ebind.taskRef";
  readonly spec: HandlerSpec<A, R> & { readonly name: string };
  /** Phantom members: never set at run time, present so the compiler can carry `A` and `R`. */
  readonly __args?: A;
  readonly __result?: R;
}

/** The property under which {@link defineHandler} stores a handler's spec. */
export const HANDLER_SPEC: unique symbol = Symbol.for("ebind.handlerSpec") as never;

/** A handler function carrying its declared spec. */
export type DefinedHandler<F extends HandlerFn> = F & { readonly [HANDLER_SPEC]: HandlerSpec };
