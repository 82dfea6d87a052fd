/**
 * Signals as typed values (reference §3.21): a step waits for named signals (`waitForSignal`) or
 * takes one's payload as an argument (`signalRef`), and `workflow.signal(dag, name, payload)`
 * delivers it from any process. A {@link SignalDef} ties a name to its payload type and, optionally,
 * a Standard Schema (zod, valibot, arktype…) that `signal()` checks before anything is written.
 *
 * @example
 * const approval = defineSignal("approval", { schema: z.object({ by: z.string() }) });
 * dag.step("deploy", deploy, approval.ref(), build.ref());   // deploy(ctx, a: { by: string }, artifact: string)
 * await workflow.signal(dag.id, approval, { by: "eugene" });  // checked against the schema
 * @module
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { WorkflowError } from "../model/errors.js";

/**
 * A placeholder for a signal's payload in a step's arguments (reference §2.6.8). `T` is the payload
 * type: the phantom member makes it feed only parameters of that type.
 */
export class SignalRef<T> {
  declare private readonly __payload: () => T;
  /** @internal Use {@link signalRef} or {@link SignalDef.ref}. */
  constructor(readonly name: string) {}
}

/**
 * A named signal with its payload type `T` (what steps receive), and optionally a schema `signal()`
 * checks: it takes the schema's input `In` and delivers the schema's output, so trims, defaults and
 * the stripping of unknown keys apply.
 */
export interface SignalDef<T, In = T> {
  readonly name: string;
  readonly schema?: StandardSchemaV1<In, T> | undefined;
  /** This signal's payload as a step argument; the step waits until the signal is delivered. */
  ref(): SignalRef<T>;
}

/** Something that names a signal: its name, or its definition. */
export type SignalName = string | SignalDef<any, any>;

/**
 * The longest signal name, in characters. The name is stored base64url-encoded in a KV key (and an
 * event subject), and a subject far longer breaks the client's connection to the server.
 */
export const MAX_SIGNAL_NAME_CHARS = 256;

/**
 * Checks a signal name.
 * @throws WorkflowError `invalid` naming where it came from, for anything but a non-empty string of
 *   at most {@link MAX_SIGNAL_NAME_CHARS} characters.
 */
export function checkSignalName(name: unknown, where: string): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new WorkflowError("invalid", `workflow: ${where}: signal name must be a non-empty string, got ${JSON.stringify(name) ?? String(name)}`);
  }
  if (name.length > MAX_SIGNAL_NAME_CHARS) {
    throw new WorkflowError("invalid", `workflow: ${where}: signal name of ${name.length} characters is longer than ${MAX_SIGNAL_NAME_CHARS} (it begins ${JSON.stringify(name.slice(0, 32))})`);
  }
  return name;
}

/** The name of a {@link SignalName}. */
export function signalNameOf(signal: SignalName, where: string): string {
  return checkSignalName(typeof signal === "string" ? signal : (signal as SignalDef<unknown> | undefined)?.name, where);
}

/**
 * A signal's payload as a step argument (reference `SignalRef`); type it with the payload type:
 * `signalRef<Approval>("approval")`.
 * @throws WorkflowError `invalid` for an empty name.
 */
export function signalRef<T = unknown>(name: string): SignalRef<T> {
  return new SignalRef<T>(checkSignalName(name, "signalRef"));
}

/**
 * Defines a signal: its name and payload type, with an optional Standard Schema that every
 * `signal()` of it must pass: `signal()` then takes the schema's input and delivers its output.
 * @throws WorkflowError `invalid` for an empty name or a schema that is not a Standard Schema.
 */
export function defineSignal<T = unknown>(name: string): SignalDef<T>;
export function defineSignal<S extends StandardSchemaV1>(
  name: string,
  options: { readonly schema: S },
): SignalDef<StandardSchemaV1.InferOutput<S>, StandardSchemaV1.InferInput<S>>;
export function defineSignal(name: string, options: { readonly schema?: StandardSchemaV1 } = {}): SignalDef<unknown> {
  const checked = checkSignalName(name, "defineSignal");
  const schema = options.schema;
  if (schema !== undefined && typeof (schema as Partial<StandardSchemaV1>)["~standard"]?.validate !== "function") {
    throw new WorkflowError("invalid", `workflow: defineSignal(${JSON.stringify(checked)}): schema must be a Standard Schema (zod, valibot, arktype…)`);
  }
  return { name: checked, schema, ref: () => new SignalRef<unknown>(checked) };
}
