/**
 * Turning built steps into step records (reference §2.6.7, §3.10): the handler's name, the
 * arguments as a JSON array with ref placeholders, the dependencies (refs first, then `after`, then
 * the dynamic parent; deduplicated) and the options. Literal arguments are checked now — count,
 * JSON-faithfulness, declared schemas — so a bad DAG fails at submit, not at run time (reference
 * §8.3 item 16, improved).
 * @module
 */
import { describe } from "../../task/describe.js";
import { TaskError } from "../../task/errors.js";
import { findUnfaithfulJson } from "../../task/json-safe.js";
import type { RetryPolicyData } from "../../task/retry.js";
import { StepRef, type StepSpec } from "./builder.js";
import { checkSignalName, SignalRef } from "./signals.js";
import { encodeArgs, type ArgSlot } from "../model/codec.js";
import { stringifyJson } from "../../task/json-safe.js";
import { WorkflowError } from "../model/errors.js";
import type { Placement, StepRecord } from "../model/records.js";

/** Where a step comes from: a submitted DAG, or a running step adding it. */
export interface RecordContext {
  readonly dagId: string;
  readonly defaultPolicy: RetryPolicyData | undefined;
  /** The step adding this one (dynamic steps): a required dependency. */
  readonly parent?: string | undefined;
}

/**
 * Builds the pending record of one step.
 * @throws WorkflowError `invalid` naming the step: bad handler, argument count, an argument JSON
 *   cannot carry, or one its schema refuses.
 */
export async function buildStepRecord(spec: StepSpec, ctx: RecordContext, now: Date): Promise<StepRecord> {
  const where = `workflow: step "${spec.id}"`;
  let dispatcher;
  try {
    dispatcher = describe(spec.target);
  } catch (err) {
    throw new WorkflowError("invalid", `${where}: ${(err as Error).message}`, { cause: err });
  }
  const countProblem = dispatcher.countProblem(spec.args.length);
  if (countProblem !== undefined) throw new WorkflowError("invalid", `${where}: ${dispatcher.name} arguments: ${countProblem}`);
  const slots: ArgSlot[] = [];
  const deps: string[] = [];
  const signalArgs: string[] = [];
  for (const [i, arg] of spec.args.entries()) {
    if (arg instanceof SignalRef) {
      const name = checkSignalName(arg.name, `step "${spec.id}": arg ${i}`);
      slots.push({ kind: "signal", signal: { name } });
      if (!signalArgs.includes(name)) signalArgs.push(name);
      continue;
    }
    if (arg instanceof StepRef) {
      if (arg.dagId !== undefined && arg.dagId !== ctx.dagId) {
        throw new WorkflowError("invalid", `${where}: arg ${i} refers to step "${arg.stepId}" of DAG ${arg.dagId}, not of ${ctx.dagId}`);
      }
      slots.push({ kind: "ref", ref: { stepId: arg.stepId, mode: arg.mode, defaultJson: arg.defaultJson } });
      if (!deps.includes(arg.stepId)) deps.push(arg.stepId);
      continue;
    }
    const problem = findUnfaithfulJson(arg, `arg ${i}`);
    if (problem !== undefined) throw new WorkflowError("invalid", `${where}: ${problem}`);
    const schema = dispatcher.argTypes[i]?.schema;
    if (schema) {
      const checked = await schema["~standard"].validate(JSON.parse(stringifyJson(arg) ?? "null"));
      if (checked.issues) {
        const detail = checked.issues.map((issue) => issue.message).join("; ");
        throw new WorkflowError("invalid", `${where}: arg ${i}: ${detail}`, { cause: new TaskError("arg_type", detail, { retryable: false }) });
      }
    }
    slots.push({ kind: "literal", raw: stringifyJson(arg) ?? "null" });
  }
  for (const id of [...spec.after, ...(ctx.parent === undefined ? [] : [ctx.parent])]) if (!deps.includes(id)) deps.push(id);
  const optionalDeps = spec.afterAny.filter((id, i, all) => !deps.includes(id) && all.indexOf(id) === i);
  const waitSignals = [...spec.waitSignals, ...signalArgs.filter((n) => !spec.waitSignals.includes(n))];
  if (spec.signalTimeoutMs !== undefined && waitSignals.length === 0) {
    throw new WorkflowError("invalid", `${where}: signalTimeoutMs needs a signal to wait for (waitForSignal, or a signalRef argument)`);
  }
  const placement: Placement | undefined = spec.placement;
  return {
    dagId: ctx.dagId,
    stepId: spec.id,
    fnName: dispatcher.name,
    argsJson: encodeArgs(slots),
    deps,
    optionalDeps,
    status: "pending",
    attempt: 0,
    optional: spec.optional,
    held: false,
    breakBefore: [...spec.breakBefore],
    breakAfter: [...spec.breakAfter],
    waitSignals,
    signalTimeoutMs: spec.signalTimeoutMs,
    policy: spec.policy ?? ctx.defaultPolicy,
    placement,
    addedAt: now,
  };
}
