/**
 * Declaring handlers: {@link defineHandler} attaches a name and schemas to a function,
 * {@link taskRef} makes a typed reference to a handler implemented elsewhere.
 * DESIGN §4 ("Names", "Validation").
 * @module
 */
import { EbindError } from "./errors.js";
import {
  HANDLER_SPEC,
  type ArgsOf,
  type DefinedHandler,
  type HandlerFn,
  type HandlerSpec,
  type ResultOf,
  type TaskRef,
} from "./handler.js";
import { dispatcherFor, specOf, typeName } from "./describe.js";

/**
 * Attaches `spec` to `fn` (a non-enumerable, read-only property under `HANDLER_SPEC`) and returns the
 * same function, now typed as a {@link DefinedHandler}. The name and spec are checked at once.
 *
 * @example
 * export const greet = defineHandler("main.Greet", async (_ctx, who: string) => `hello ${who}`);
 * export const signup = defineHandler(async function signup(_ctx, user: User) {…}, { args: [UserSchema] });
 * @throws {EbindError} `invalid_argument` for a non-function, a missing or invalid name (anonymous
 *   functions need one), an inconsistent spec, or a function that already has a spec.
 */
export function defineHandler<F extends HandlerFn>(fn: F, spec?: HandlerSpec<ArgsOf<F>, ResultOf<F>>): DefinedHandler<F>;
/** Names a handler: `defineHandler("name", fn, spec?)` is `defineHandler(fn, { ...spec, name })`. */
export function defineHandler<F extends HandlerFn>(
  name: string,
  fn: F,
  spec?: Omit<HandlerSpec<ArgsOf<F>, ResultOf<F>>, "name">,
): DefinedHandler<F>;
export function defineHandler(a: unknown, b?: unknown, c?: unknown): HandlerFn {
  const named = typeof a === "string";
  const fn: unknown = named ? b : a;
  const given = (named ? c : b) as HandlerSpec | undefined;
  if (typeof fn !== "function") throw new EbindError("invalid_argument", `ebind: defineHandler: not a function: ${typeName(fn)}`);
  const handler = fn as HandlerFn;
  const existing = specOf(handler);
  if (existing !== undefined) {
    throw new EbindError(
      "invalid_argument",
      `ebind: defineHandler: this function already has a spec${existing.name === undefined ? "" : ` (name "${existing.name}")`}; wrap it in a new function to define it again`,
    );
  }
  const spec: HandlerSpec = Object.freeze(named ? { ...given, name: a } : { ...given });
  dispatcherFor("defineHandler", handler, undefined, spec); // validates name and spec
  Object.defineProperty(handler, HANDLER_SPEC, { value: spec, enumerable: false, writable: false, configurable: false });
  return handler;
}

/**
 * A typed reference to a handler a producer must not (or cannot) import, e.g. one implemented in Go
 * or in another service. Pair it with `import type` to keep the types without the code:
 *
 * @example
 * import type { greet } from "../worker/handlers.js";
 * const Greet = taskRef<typeof greet>("main.Greet");
 * @param spec optional schemas and arity, checked by the producer before publishing.
 * @throws {EbindError} `invalid_argument` for an invalid name or an inconsistent spec.
 */
export function taskRef<F extends HandlerFn = HandlerFn>(
  name: string,
  spec?: Omit<HandlerSpec<ArgsOf<F>, ResultOf<F>>, "name">,
): TaskRef<ArgsOf<F>, ResultOf<F>> {
  const ref = Object.freeze({
    kind: "ebind.taskRef" as const,
    spec: Object.freeze({ ...spec, name }),
  }) as TaskRef<ArgsOf<F>, ResultOf<F>>;
  dispatcherFor("taskRef", ref); // validates name and spec
  return ref;
}
