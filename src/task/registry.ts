/**
 * The worker's handler registry: name → {@link Dispatcher}, with aliases so a renamed handler keeps
 * serving tasks published under its old name. Reference §1.1 (Registry), §7 items 1–3.
 * @module
 */
import type { Dispatcher } from "./dispatcher.js";
import { dispatcherFor, typeName } from "./describe.js";
import { EbindError } from "./errors.js";
import type { HandlerFn } from "./handler.js";
import { validateHandlerName } from "./names.js";

/** An option of {@link Registry.register}; make one with {@link withName} or {@link alias}. */
export interface RegisterOption {
  readonly kind: "name" | "alias";
  readonly name: string;
}

/**
 * Registers the handler under `name` instead of its spec's or function's name. The last one wins
 * when given twice. The name is checked by `register`.
 */
export function withName(name: string): RegisterOption {
  return Object.freeze({ kind: "name", name });
}

/**
 * Also routes tasks named `name` to the handler (repeatable), e.g. its name before a rename.
 * The alias is checked by `register`.
 */
export function alias(name: string): RegisterOption {
  return Object.freeze({ kind: "alias", name });
}

/**
 * Handlers by name. Registering while a worker runs is allowed: the worker looks handlers up per task.
 *
 * Unlike ebind in Go, a failed registration registers nothing (Go keeps the primary name when an
 * alias is a duplicate).
 */
export class Registry {
  readonly #byName = new Map<string, Dispatcher>();

  /**
   * Registers `fn` and returns its dispatcher. Name precedence: {@link withName}, then the spec name
   * from `defineHandler`, then `fn.name`.
   * @throws {EbindError} `invalid_argument`, registering nothing:
   *   `ebind: Register: not a function: <type>`; an anonymous or bound function without a name; an
   *   invalid name or alias; an inconsistent spec; `ebind: Register: duplicate handler name "<n>"`;
   *   `ebind: Register: duplicate alias "<n>"` (an alias already taken, equal to the name, or repeated).
   */
  register(fn: HandlerFn, ...opts: RegisterOption[]): Dispatcher {
    let explicit: string | undefined;
    const aliases: string[] = [];
    for (const opt of opts) {
      if (opt.kind === "name") explicit = opt.name;
      else aliases.push(opt.name);
    }
    if (typeof fn !== "function") {
      throw new EbindError("invalid_argument", `ebind: Register: not a function: ${typeName(fn)}`);
    }
    const dispatcher = dispatcherFor("Register", fn, explicit);
    if (this.#byName.has(dispatcher.name)) {
      throw new EbindError("invalid_argument", `ebind: Register: duplicate handler name "${dispatcher.name}"`);
    }
    const taken = new Set<string>([dispatcher.name]);
    for (const a of aliases) {
      try {
        validateHandlerName(a, "alias");
      } catch (e) {
        throw new EbindError("invalid_argument", `ebind: Register: ${(e as Error).message}`, { cause: e });
      }
      if (taken.has(a) || this.#byName.has(a)) throw new EbindError("invalid_argument", `ebind: Register: duplicate alias "${a}"`);
      taken.add(a);
    }
    for (const key of taken) this.#byName.set(key, dispatcher);
    return dispatcher;
  }

  /**
   * The Go-parity name (`MustRegister`): registers like {@link register} and returns nothing. In
   * TypeScript both throw on failure.
   * @throws {EbindError} as {@link register}.
   */
  mustRegister(fn: HandlerFn, ...opts: RegisterOption[]): void {
    this.register(fn, ...opts);
  }

  /** The dispatcher registered under `name` (a primary name or an alias), if any. */
  get(name: string): Dispatcher | undefined {
    return this.#byName.get(name);
  }

  /** Every registered name, primary names and aliases, sorted. */
  names(): string[] {
    return [...this.#byName.keys()].sort();
  }
}
