/**
 * Building a DAG in code: steps with their handler and arguments, where an argument may be another
 * step's result (`ref()`) or that result with a default (`refOrDefault(v)`), plus step options
 * (reference §1.7.6). The compiler checks each step's arguments against its handler's signature,
 * refs included: a step returning `User` cannot feed a `string` parameter.
 *
 * @example
 * const dag = workflow.dag({ id: "order-42", labels: ["orders"] });
 * const user = dag.step("fetch", fetchUser, "user-42");          // Step<User>
 * const card = dag.step("card", renderCard, user.ref());          // renderCard(ctx, u: User)
 * dag.step("notify", notify, card.refOrDefault("no card")).optional();
 * await workflow.submit(dag);
 * @module
 */
import { randomUUID } from "node:crypto";
import type { ArgsOf, HandlerFn, ResultOf, TaskRef } from "../../task/handler.js";
import { RetryPolicy, type RetryPolicyData, type RetryPolicyOptions } from "../../task/retry.js";
import { EbindError } from "../../task/errors.js";
import { validateDagId, validateStepId } from "../model/keys.js";
import { WorkflowError } from "../model/errors.js";
import { stringifyJson } from "../../task/json-safe.js";
import type { Placement } from "../model/records.js";
import type { SignalRef} from "./signals.js";
import { signalNameOf, type SignalName } from "./signals.js";

/** Something a step can run: a handler or a typed reference to one. */
export type StepTarget = HandlerFn | TaskRef<any, any>;

/**
 * A reference to a step's result, used as an argument of a later step. `T` is the result type; the
 * phantom member makes refs covariant in it: a `StepRef<User>` cannot feed a `string` parameter,
 * while a step that never returns (`never`) can feed any.
 */
export class StepRef<T> {
  declare private readonly __result: () => T;
  /** @internal */
  constructor(
    readonly stepId: string,
    readonly mode: "required" | "or_default",
    /** Raw JSON of the default (`or_default` only); absent means `null`. */
    readonly defaultJson: string | undefined,
    /** The DAG the referenced step belongs to, when known: a ref cannot cross DAGs. */
    readonly dagId?: string | undefined,
  ) {}
}

/**
 * A step's arguments: each one the parameter's type, a ref to a step result of that type, or a
 * signal's payload of that type (`signalRef<T>(name)`, `def.ref()`).
 */
export type StepArgs<A extends readonly unknown[]> = { [K in keyof A]: A[K] | StepRef<A[K]> | SignalRef<A[K]> };

/** {@link StepArgs} of a handler or reference. */
export type StepArgsOf<T> = ArgsOf<T> extends infer A extends readonly unknown[] ? StepArgs<A> : never;

/** Any step, whatever its result type: what ordering options take. */
export interface StepLike {
  readonly dagId: string;
  readonly id: string;
}

/** The options a step carries into its record. */
export interface StepSpec {
  readonly id: string;
  readonly target: StepTarget;
  readonly args: readonly unknown[];
  readonly optional: boolean;
  readonly policy: RetryPolicyData | undefined;
  readonly after: readonly string[];
  readonly afterAny: readonly string[];
  readonly placement: Placement | undefined;
  readonly breakBefore: readonly string[];
  readonly breakAfter: readonly string[];
  readonly waitSignals: readonly string[];
  readonly signalTimeoutMs: number | undefined;
}

/** The longest signal timeout, in ms (what a timer can wait; about 24.8 days). */
export const MAX_SIGNAL_TIMEOUT_MS = 2_147_483_647;

/**
 * Checks breakpoint labels (reference §3.10: at least one, each non-empty).
 * @throws WorkflowError `invalid` naming the step and the option.
 */
export function checkBreakpointLabels(stepId: string, option: string, labels: readonly unknown[]): string[] {
  if (labels.length === 0) throw new WorkflowError("invalid", `workflow: step "${stepId}": ${option} requires at least one label`);
  for (const label of labels) {
    if (typeof label !== "string" || label.length === 0) throw new WorkflowError("invalid", `workflow: step "${stepId}": ${option} label must be a non-empty string, got ${JSON.stringify(label) ?? String(label)}`);
  }
  return labels as string[];
}

/**
 * Checks a signal timeout.
 * @throws WorkflowError `invalid` naming the step.
 */
export function checkSignalTimeout(stepId: string, ms: unknown): number {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 1 || ms > MAX_SIGNAL_TIMEOUT_MS) {
    throw new WorkflowError("invalid", `workflow: step "${stepId}": signalTimeoutMs must be an integer number of ms from 1 to ${MAX_SIGNAL_TIMEOUT_MS}, got ${String(ms)}`);
  }
  return ms;
}

/** A step being built; its methods set options and return the step, so they chain. */
export class Step<R> {
  #optional = false;
  #policy: RetryPolicyData | undefined;
  readonly #after: string[] = [];
  readonly #afterAny: string[] = [];
  #placement: Placement | undefined;
  readonly #breakBefore: string[] = [];
  readonly #breakAfter: string[] = [];
  readonly #waitSignals: string[] = [];
  #signalTimeoutMs: number | undefined;

  /** @internal Use {@link DagBuilder.step}. */
  constructor(
    /** The DAG this step belongs to. */
    readonly dagId: string,
    readonly id: string,
    readonly target: StepTarget,
    readonly args: readonly unknown[],
  ) {}

  /** This step's result as an argument of a later step; a failed, skipped or canceled upstream skips that step. */
  ref(): StepRef<R> {
    return new StepRef<R>(this.id, "required", undefined, this.dagId);
  }

  /**
   * This step's result as an argument, or `fallback` when this step failed, was skipped or canceled
   * (then the later step still runs). Without a fallback the argument is `null`.
   * @throws EbindError `invalid_argument` when `fallback` cannot be carried by JSON.
   */
  refOrDefault(): StepRef<R | null>;
  refOrDefault(fallback: R): StepRef<R>;
  refOrDefault(...fallback: [] | [R]): StepRef<R> | StepRef<R | null> {
    if (fallback.length === 0) return new StepRef<R | null>(this.id, "or_default", undefined, this.dagId);
    const json = stringifyJson(fallback[0]); // keeps a -0
    if (json === undefined) throw new EbindError("invalid_argument", `workflow: step "${this.id}": refOrDefault value cannot be carried by JSON`);
    return new StepRef<R>(this.id, "or_default", json, this.dagId);
  }

  /** This step failing (or being skipped) does not fail the DAG. */
  optional(): this {
    this.#optional = true;
    return this;
  }

  /** A retry policy for this step, overriding the DAG's. Missing fields take the default policy's values. */
  retry(policy: RetryPolicyOptions | RetryPolicy): this {
    this.#policy = RetryPolicy.from(policy).toData();
    return this;
  }

  /**
   * Run only after these steps finished; their failure or skip skips this step.
   * @throws EbindError `invalid_argument` for a step of another DAG.
   */
  after(...steps: ReadonlyArray<StepLike>): this {
    for (const s of steps) this.#after.push(this.#sameDag(s, "after"));
    return this;
  }

  /**
   * Run only after these steps finished, whatever their outcome (never cascades).
   * @throws EbindError `invalid_argument` for a step of another DAG.
   */
  afterAny(...steps: ReadonlyArray<StepLike>): this {
    for (const s of steps) this.#afterAny.push(this.#sameDag(s, "afterAny"));
    return this;
  }

  #sameDag(step: StepLike, option: string): string {
    if (step.dagId !== this.dagId) {
      throw new EbindError("invalid_argument", `workflow: step "${this.id}": ${option}(${step.id}) names a step of DAG ${step.dagId}, not of ${this.dagId}`);
    }
    return step.id;
  }

  #place(placement: Placement, option: string): this {
    if (this.#placement !== undefined) {
      throw new WorkflowError("invalid", `workflow: step "${this.id}": ${option}: the step already has a placement (${this.#placement.mode}); a step has one`);
    }
    this.#placement = placement;
    return this;
  }

  /** Run on a worker holding this claim (reference §3.23 `OnTarget`). */
  onTarget(target: string): this {
    if (typeof target !== "string" || target.trim() === "") throw new EbindError("invalid_argument", `workflow: step "${this.id}": onTarget needs a non-empty claim`);
    return this.#place({ mode: "direct", target }, "onTarget");
  }

  /**
   * Run on the very worker that ran `step` (reference §3.23 `ColocateWith`); also runs after it (a
   * failure of `step` skips this one).
   * @throws EbindError `invalid_argument` for a step of another DAG; WorkflowError `invalid` when the
   *   step already has a placement.
   */
  colocateWith(step: StepLike): this {
    const id = this.#sameDag(step, "colocateWith");
    this.#place({ mode: "colocate_with", stepId: id }, "colocateWith");
    this.#after.push(id);
    return this;
  }

  /**
   * Run wherever `step`'s placement points when this step starts — its claim resolved again then,
   * so a claim that moved is followed (reference §3.23 `FollowTargetOf`); also runs after it.
   * `step` must have a placement of its own.
   * @throws EbindError `invalid_argument` for a step of another DAG; WorkflowError `invalid` when the
   *   step already has a placement.
   */
  followTargetOf(step: StepLike): this {
    const id = this.#sameDag(step, "followTargetOf");
    this.#place({ mode: "follow_target_of", stepId: id }, "followTargetOf");
    this.#after.push(id);
    return this;
  }

  /**
   * Stop before this step starts while one of `labels` is armed for the run (`submit(dag, {
   * breakpoints })`), until `resumeBreakpoint(dagId, label)` releases it (reference §3.19).
   * @throws WorkflowError `invalid` for no label or an empty one.
   */
  breakBefore(...labels: string[]): this {
    for (const l of checkBreakpointLabels(this.id, "breakBefore", labels)) if (!this.#breakBefore.includes(l)) this.#breakBefore.push(l);
    return this;
  }

  /**
   * Once this step is done, hold its dependents while one of `labels` is armed, until released; its
   * result is readable meanwhile (reference §3.19).
   * @throws WorkflowError `invalid` for no label or an empty one.
   */
  breakAfter(...labels: string[]): this {
    for (const l of checkBreakpointLabels(this.id, "breakAfter", labels)) if (!this.#breakAfter.includes(l)) this.#breakAfter.push(l);
    return this;
  }

  /**
   * Start only once every one of these signals has been delivered to the DAG (reference §3.21).
   * @throws WorkflowError `invalid` for no signal or an empty name.
   */
  waitForSignal(...signals: SignalName[]): this {
    if (signals.length === 0) throw new WorkflowError("invalid", `workflow: step "${this.id}": waitForSignal requires at least one name`);
    const names = signals.map((signal) => signalNameOf(signal, `step "${this.id}": waitForSignal`)); // all checked before any is added
    for (const name of names) if (!this.#waitSignals.includes(name)) this.#waitSignals.push(name);
    return this;
  }

  /**
   * Fail this step with kind `signal_timeout` when its signals have not all arrived this many ms
   * after it began to wait for them with its dependencies satisfied. Durable: the clock is on the
   * step's record, and a sweep fires it even if no process ran at the time.
   * @throws WorkflowError `invalid` for anything but an integer from 1 to 2,147,483,647.
   */
  signalTimeoutMs(ms: number): this {
    this.#signalTimeoutMs = checkSignalTimeout(this.id, ms);
    return this;
  }

  /** @internal The options as plain data. */
  spec(): StepSpec {
    return {
      id: this.id,
      target: this.target,
      args: this.args,
      optional: this.#optional,
      policy: this.#policy,
      after: [...this.#after],
      afterAny: [...this.#afterAny],
      placement: this.#placement,
      breakBefore: [...this.#breakBefore],
      breakAfter: [...this.#breakAfter],
      waitSignals: [...this.#waitSignals],
      signalTimeoutMs: this.#signalTimeoutMs,
    };
  }
}

/** Options of a DAG. */
export interface DagOptions {
  /** A pinned id (letters, digits, `-`, `_`, `=`); submitting an id that exists fails. @default a random UUID */
  readonly id?: string | undefined;
  /** Labels to find the DAG by (`listDagsByLabels`); non-empty strings, deduplicated. */
  readonly labels?: readonly string[] | undefined;
  /** Retry policy of every step that sets none. */
  readonly retry?: RetryPolicyOptions | RetryPolicy | undefined;
}

/** A DAG being built. Submit it once with `workflow.submit(dag)`. */
export class DagBuilder {
  readonly id: string;
  readonly labels: readonly string[];
  readonly defaultPolicy: RetryPolicyData | undefined;
  readonly #steps = new Map<string, Step<unknown>>();
  /** @internal set by submit */
  submitted = false;

  /**
   * @throws EbindError `invalid_argument` for an invalid id or label.
   */
  constructor(options: DagOptions = {}) {
    this.id = options.id ?? randomUUID();
    validateDagId(this.id);
    const labels: string[] = [];
    for (const label of options.labels ?? []) {
      if (typeof label !== "string" || label.length === 0) throw new EbindError("invalid_argument", "workflow: labels must be non-empty strings");
      if (!labels.includes(label)) labels.push(label);
    }
    this.labels = labels;
    this.defaultPolicy = options.retry === undefined ? undefined : RetryPolicy.from(options.retry).toData();
  }

  /**
   * Adds a step running `target(...args)`; arguments may be refs to other steps' results.
   * @throws EbindError `invalid_argument` for an invalid or duplicate step id (nothing is added).
   */
  step<T extends StepTarget>(id: string, target: T, ...args: StepArgsOf<T>): Step<ResultOf<T>> {
    validateStepId(id);
    if (this.#steps.has(id)) throw new EbindError("invalid_argument", `workflow: duplicate step id "${id}" in DAG ${this.id}`);
    const step = new Step<ResultOf<T>>(this.id, id, target, args);
    this.#steps.set(id, step);
    return step;
  }

  /** The steps in the order they were added. */
  steps(): Array<Step<unknown>> {
    return [...this.#steps.values()];
  }
}
