/**
 * Handler names and producer-side dispatchers: {@link canonicalName} decides the name a function
 * or reference is routed by, {@link describe} builds a {@link Dispatcher} without registering.
 * Reference §1.1 (CanonicalName, Describe); DESIGN §4 ("Names").
 * @module
 */
import { EbindError } from "./errors.js";
import { HANDLER_SPEC, type HandlerFn, type HandlerSpec, type TaskRef } from "./handler.js";
import { Dispatcher } from "./dispatcher.js";
import { validateHandlerName } from "./names.js";

/** Whether `value` is a {@link TaskRef} made by `taskRef`. */
export function isTaskRef(value: unknown): value is TaskRef {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "ebind.taskRef";
}

/** The spec `defineHandler` attached to a function, if any. */
export function specOf(fn: HandlerFn): HandlerSpec | undefined {
  const spec: unknown = (fn as { [HANDLER_SPEC]?: unknown })[HANDLER_SPEC];
  return typeof spec === "object" && spec !== null ? spec : undefined;
}

/** A short description of a value's type for error messages: `null`, `array`, `string`… */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * Resolves and validates the name of a handler.
 * Precedence: `explicit` (e.g. `withName`), then the ref's or spec's name, then `fn.name`.
 * @internal
 */
export function resolveName(op: string, target: HandlerFn | TaskRef, explicit?: string, spec?: HandlerSpec): string {
  let name: string;
  if (explicit !== undefined) name = explicit;
  else if (isTaskRef(target)) name = target.spec.name;
  else {
    const specName = (spec ?? specOf(target))?.name;
    if (specName !== undefined) name = specName;
    else {
      name = target.name;
      if (name === "" || name === "anonymous") {
        throw new EbindError(
          "invalid_argument",
          `ebind: ${op}: cannot name an anonymous function; give it a name with defineHandler("name", fn), a spec name, or withName("name")`,
        );
      }
      if (name.startsWith("bound ")) {
        throw new EbindError(
          "invalid_argument",
          `ebind: ${op}: the bound function "${name}" has no usable name; name it with defineHandler("name", fn) or withName("name")`,
        );
      }
    }
  }
  try {
    validateHandlerName(name);
  } catch (e) {
    throw new EbindError("invalid_argument", `ebind: ${op}: ${(e as Error).message}`, { cause: e });
  }
  return name;
}

/**
 * Builds a dispatcher for a function or reference after checking it.
 * @internal
 */
export function dispatcherFor(op: string, target: unknown, explicitName?: string, specOverride?: HandlerSpec): Dispatcher {
  if (isTaskRef(target)) {
    const name = resolveName(op, target, explicitName);
    return new Dispatcher({ name, spec: target.spec, op });
  }
  if (typeof target !== "function") {
    throw new EbindError("invalid_argument", `ebind: ${op}: not a function: ${typeName(target)}`);
  }
  const fn = target as HandlerFn;
  const spec = specOverride ?? specOf(fn);
  const name = resolveName(op, fn, explicitName, spec);
  return new Dispatcher({ name, fn, spec, op });
}

/**
 * The name a handler is routed by (`TASKS.<name>`): a reference's name, else the name in the spec
 * `defineHandler` attached, else the function's own `name`. There is no Go-style package prefix: to
 * serve Go producers, name handlers with the Go canonical name (`defineHandler("main.Greet", fn)`).
 * @throws {EbindError} `invalid_argument` for a non-function, an anonymous function (`""` or
 *   `"anonymous"`), a bound function (`"bound foo"`), or a name that is not a valid subject.
 */
export function canonicalName(fnOrRef: HandlerFn | TaskRef): string {
  if (!isTaskRef(fnOrRef) && typeof fnOrRef !== "function") {
    throw new EbindError("invalid_argument", `ebind: CanonicalName: not a function: ${typeName(fnOrRef)}`);
  }
  return resolveName("CanonicalName", fnOrRef);
}

/**
 * A dispatcher for a handler or reference without registering it — what a producer uses to name the
 * task and validate its arguments before publishing. Its `call` works only for functions.
 * @throws {EbindError} `invalid_argument`: `ebind: Describe: not a function: <type>`, or a name or
 *   spec problem (see {@link canonicalName} and {@link Dispatcher}).
 */
export function describe(fnOrRef: HandlerFn | TaskRef): Dispatcher {
  return dispatcherFor("Describe", fnOrRef);
}
