/**
 * Steps added by a running step's handler (reference §3.22), and the middleware that makes them
 * possible. Inside a DAG step, `dagContext(ctx)` gives the DAG id, the step id and `addStep`. A
 * dynamic step depends on the step that added it (it runs after it succeeds, and is skipped if it
 * fails); refs to steps that do not exist and refs to itself are refused, so no cycle can form.
 * Adding the same step id again with the same handler is a no-op (a retried handler may repeat it).
 * @module
 */
import type { HandlerContext, ResultOf } from "../../task/handler.js";
import type { Middleware } from "../../worker/middleware.js";
import { Step, StepRef, type StepArgsOf, type StepTarget } from "../build/builder.js";
import type { WorkflowCore } from "../store/core.js";
import { WorkflowError } from "../model/errors.js";
import { stringifyJson } from "../../task/json-safe.js";
import { EbindError } from "../../task/errors.js";
import { publishEvent } from "../store/events.js";
import { validateStepId } from "../model/keys.js";
import { stepFields } from "../model/log-fields.js";
import type { RetryPolicyOptions, RetryPolicy } from "../../task/retry.js";
import { buildStepRecord } from "../build/step-records.js";
import type { StepRecord } from "../model/records.js";
import type { SignalName } from "../build/signals.js";
import { cancelStep, holdStep } from "../run/fence.js";
import { checkStepSize } from "../run/size-limits.js";

/** Options of a dynamic step. */
export interface DynamicStepOptions {
  readonly optional?: boolean | undefined;
  readonly retry?: RetryPolicyOptions | RetryPolicy | undefined;
  /** Ids of steps of this DAG to run after (their failure skips this step). */
  readonly after?: readonly string[] | undefined;
  /** Ids of steps of this DAG to run after whatever their outcome. */
  readonly afterAny?: readonly string[] | undefined;
  /** Run on a worker holding this claim. */
  readonly onTarget?: string | undefined;
  /** Run on the worker that runs the step adding it (reference §3.22 `ColocateHere`). */
  readonly colocateHere?: boolean | undefined;
  /** Run on the worker that ran this step of the DAG (also runs after it). */
  readonly colocateWith?: string | undefined;
  /** Run where this step's placement points when it starts (also runs after it). */
  readonly followTargetOf?: string | undefined;
  /** Before-breakpoint labels (reference §3.19). */
  readonly breakBefore?: readonly string[] | undefined;
  /** After-breakpoint labels (reference §3.19). */
  readonly breakAfter?: readonly string[] | undefined;
  /** Signals to wait for (reference §3.21); a signal delivered earlier satisfies it at once. */
  readonly waitForSignal?: readonly SignalName[] | undefined;
  /** Fail with kind `signal_timeout` when the signals have not arrived this many ms after the wait began. */
  readonly signalTimeoutMs?: number | undefined;
}

/** A step added at run time: refer to its result from later dynamic steps, or await it. */
export interface DynamicStep<R> {
  readonly dagId: string;
  readonly id: string;
  ref(): StepRef<R>;
  refOrDefault(fallback: R): StepRef<R>;
}

/** What a DAG step's handler knows about its DAG. */
export interface DagContext {
  readonly dagId: string;
  /** The step this handler runs for. */
  readonly stepId: string;
  readonly workerId: string;
  /** A ref to an existing step of this DAG, by id, typed by the caller. */
  ref<T>(stepId: string): StepRef<T>;
  /**
   * Adds a step to this DAG, depending on the current step.
   * @throws WorkflowError `dag_canceled` for a canceled DAG, `invalid` for a ref to an unknown step
   *   (or to itself) or bad arguments, `stale_revision` when the id exists with another handler;
   *   EbindError `payload_too_large` when its record or task would not fit the server's max payload
   *   (naming the step, its size and the limit; nothing written).
   */
  addStep<T extends StepTarget>(id: string, target: T, ...args: StepArgsOf<T>): Promise<DynamicStep<ResultOf<T>>>;
  /** {@link addStep} with options. */
  addStepWith<T extends StepTarget>(id: string, options: DynamicStepOptions, target: T, ...args: StepArgsOf<T>): Promise<DynamicStep<unknown>>;
}

const contexts = new WeakMap<HandlerContext, DagContext>();

/** The DAG context of a step's handler, or undefined outside a DAG step (or without the workflow middleware). */
export function dagContext(ctx: HandlerContext): DagContext | undefined {
  return contexts.get(ctx);
}

/** Middleware giving DAG steps their {@link DagContext}. */
export function workflowMiddleware(core: WorkflowCore): Middleware {
  return (next) => async (ctx) => {
    const { dagId, stepId } = ctx.task;
    if (!dagId || !stepId) return next(ctx);
    const inner: HandlerContext = { ...ctx };
    contexts.set(inner, new StepContext(core, dagId, stepId, ctx.workerId));
    return next(inner);
  };
}

class StepContext implements DagContext {
  constructor(
    private readonly core: WorkflowCore,
    readonly dagId: string,
    readonly stepId: string,
    readonly workerId: string,
  ) {}

  ref<T>(stepId: string): StepRef<T> {
    return new StepRef<T>(stepId, "required", undefined, this.dagId);
  }

  addStep<T extends StepTarget>(id: string, target: T, ...args: StepArgsOf<T>): Promise<DynamicStep<ResultOf<T>>> {
    return this.addStepWith(id, {}, target, ...args) as Promise<DynamicStep<ResultOf<T>>>;
  }

  async addStepWith<T extends StepTarget>(id: string, options: DynamicStepOptions, target: T, ...args: StepArgsOf<T>): Promise<DynamicStep<unknown>> {
    validateStepId(id);
    const meta = await this.core.store.getMeta(this.dagId);
    if (!meta) throw new WorkflowError("dag_not_found", `workflow: DAG ${this.dagId} not found`);
    if (meta.value.status === "canceled") throw new WorkflowError("dag_canceled", `workflow: DAG ${this.dagId} canceled: cannot add step "${id}"`);
    const step = new Step<unknown>(this.dagId, id, target, args);
    if (options.optional) step.optional();
    if (options.retry !== undefined) step.retry(options.retry);
    if (options.onTarget !== undefined) step.onTarget(options.onTarget);
    const handleOf = (stepId: string): { dagId: string; id: string } => ({ dagId: this.dagId, id: stepId });
    if (options.colocateHere) step.colocateWith(handleOf(this.stepId));
    if (options.colocateWith !== undefined) step.colocateWith(handleOf(options.colocateWith));
    if (options.followTargetOf !== undefined) step.followTargetOf(handleOf(options.followTargetOf));
    if (options.breakBefore !== undefined) step.breakBefore(...options.breakBefore);
    if (options.breakAfter !== undefined) step.breakAfter(...options.breakAfter);
    if (options.waitForSignal !== undefined) step.waitForSignal(...options.waitForSignal);
    if (options.signalTimeoutMs !== undefined) step.signalTimeoutMs(options.signalTimeoutMs);
    const built = step.spec();
    const spec = { ...built, after: [...built.after, ...(options.after ?? [])], afterAny: [...(options.afterAny ?? [])] };
    const record = await buildStepRecord(spec, { dagId: this.dagId, defaultPolicy: meta.value.defaultPolicy, parent: this.stepId }, new Date());
    for (const dep of [...record.deps, ...record.optionalDeps]) {
      if (dep === id) throw new WorkflowError("invalid", `workflow: dynamic step "${id}" refers to itself`);
      if (dep !== this.stepId && !(await this.core.store.getStep(this.dagId, dep))) {
        throw new WorkflowError("invalid", `workflow: dynamic step "${id}" references unknown step "${dep}"`);
      }
    }
    const existing = await this.core.store.getStep(this.dagId, id);
    if (existing) return this.#announced(sameStep(existing.value, record));
    checkStepSize(this.core.broker.maxPayloadBytes, meta.value, record, `add step "${id}" to DAG ${this.dagId}`);
    try {
      await this.core.store.createStep(record);
    } catch (err) {
      // Lost a race with a retry of this same handler.
      const raced = await this.core.store.getStep(this.dagId, id);
      if (raced) return this.#announced(sameStep(raced.value, record));
      throw err;
    }
    // Schedulers use a cached graph of the DAG only while the meta keeps its revision: move it on
    // now that the step exists (also on the repeat paths above: a first attempt may have died here).
    await this.core.store.touchMeta(this.dagId, id);
    await this.#fence(id);
    await publishEvent(this.core.broker, { kind: "step_added", dagId: this.dagId, stepId: id }).catch((err: unknown) =>
      this.core.logger.warn(stepFields(record, { error: (err as Error).message }), "workflow: step_added event not published; the sweep will pick the step up"),
    );
    return handle(this.dagId, id);
  }

  /** Touches the meta for a step that already existed (see above), then hands the step back. */
  async #announced<R>(step: DynamicStep<R>): Promise<DynamicStep<R>> {
    await this.core.store.touchMeta(this.dagId, step.id);
    await this.#fence(step.id);
    return step;
  }

  /**
   * A step created after a pause's or a cancel's fence passed over the DAG is fenced here: the meta
   * is read after the step exists, so one of the two always sees the other (`run/fence.ts`).
   */
  async #fence(stepId: string): Promise<void> {
    const status = (await this.core.store.getMeta(this.dagId))?.value.status;
    if (status === "pausing" || status === "paused") await holdStep(this.core, this.dagId, stepId, null);
    else if (status === "canceled") await cancelStep(this.core, this.dagId, stepId, null);
  }
}

/**
 * A step added again (a retried handler repeating itself) is the same step when its handler,
 * arguments and dependencies match; anything else is a conflict, not silently the old step.
 */
function sameStep<R>(existing: StepRecord, wanted: StepRecord): DynamicStep<R> {
  const differs =
    existing.fnName !== wanted.fnName
      ? `handler ${existing.fnName}, not ${wanted.fnName}`
      : existing.argsJson !== wanted.argsJson
        ? `arguments ${existing.argsJson}, not ${wanted.argsJson}`
        : existing.deps.join(",") !== wanted.deps.join(",")
          ? `dependencies [${existing.deps.join(", ")}], not [${wanted.deps.join(", ")}]`
          : undefined;
  if (differs !== undefined) throw new WorkflowError("invalid", `workflow: dynamic step "${wanted.stepId}" exists with ${differs}`);
  return handle(wanted.dagId, wanted.stepId);
}

function handle<R>(dagId: string, id: string): DynamicStep<R> {
  return {
    dagId,
    id,
    ref: () => new StepRef<R>(id, "required", undefined),
    refOrDefault: (fallback: R) => {
      const json = stringifyJson(fallback); // keeps a -0
      if (json === undefined) throw new EbindError("invalid_argument", `workflow: step "${id}": refOrDefault value cannot be carried by JSON`);
      return new StepRef<R>(id, "or_default", json);
    },
  };
}
