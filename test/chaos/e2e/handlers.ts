/**
 * The handlers of the cluster e2e suite (port of ebind's e2e phases, reference §6.17), shared by the
 * test process (to enqueue and to build DAGs) and the worker processes (to run them). Names carry
 * the `e2e.` prefix as in the reference; `e2e.eAdd` is also served under its old name
 * `e2e.LegacyAdd` (an alias, registered by the worker process).
 * @module
 */
import { defineHandler, taskRef, TaskError } from "../../../src/task/index.js";
import { dagContext } from "../../../src/workflow/index.js";
import { gateOpen } from "./gates.js";

/** The old name of {@link eAdd}, served through an alias. */
export const LEGACY_ADD = "e2e.LegacyAdd";

/** Which worker ran it: each worker process answers with its own id (its readiness probe, targeted at `worker:<id>`). */
export const whoAmI = defineHandler("e2e.WhoAmI", async (ctx) => ctx.workerId);
export const eAdd = defineHandler("e2e.eAdd", async (_ctx, a: number, b: number) => a + b);
/** A typed reference to {@link eAdd} under its alias. */
export const legacyAdd = taskRef<typeof eAdd>(LEGACY_ADD);
export const eMul = defineHandler("e2e.eMul", async (_ctx, a: number, b: number) => a * b);
export const eInc = defineHandler("e2e.eInc", async (_ctx, n: number) => n + 1);
export const eDouble = defineHandler("e2e.eDouble", async (_ctx, n: number) => n * 2);
export const eSum3 = defineHandler("e2e.eSum3", async (_ctx, a: number, b: number, c: number) => a + b + c);
export const eOne = defineHandler("e2e.eOne", async () => 1);

/**
 * A side effect the test can see: writes `effect.<key>` = the worker id into the gate bucket
 * (fire-and-forget tasks have no response to look at).
 */
export const eSideEffect = defineHandler("e2e.eSideEffect", async (ctx, key: string) => {
  await gateOpen.record(`effect.${key}`, ctx.workerId);
});

/** Fails its first attempt (a plain Error: kind `handler`, retryable), then returns `recovered` and the attempt. */
export const eFlakyOnce = defineHandler("e2e.eFlakyOnce", async (ctx) => {
  if (ctx.attempt < 2) throw new Error("flaky: first attempt fails");
  return { status: "recovered", attempt: ctx.attempt };
});

/** Fails with kind `validation`, not retryable. */
export const eNonRetryable = defineHandler("e2e.eNonRetryable", async () => {
  throw new TaskError("validation", "e2e: the input is invalid", { retryable: false });
});

/** Throws a value that is not an Error: JavaScript's panic, kind `panic`. */
export const ePanics = defineHandler("e2e.ePanics", async () => {
  throw "e2e: panic in the handler"; // eslint-disable-line @typescript-eslint/only-throw-error -- the case under test
});

/** The optional step that fails (kind `handler`); declared to return a number so `refOrDefault(7)` types. */
export const eFailOptional = defineHandler("e2e.eFailOptional", async (): Promise<number> => {
  throw new Error("e2e: the optional step fails");
});

/** Fails every attempt (kind `handler`, retryable): its retry policy runs out. */
export const eRetryExhaust = defineHandler("e2e.eRetryExhaust", async (ctx): Promise<number> => {
  throw new Error(`e2e: always fails (attempt ${ctx.attempt})`);
});

/** `dynp`: adds `dyn-followup` = double(n) on this very worker (colocateHere), returns n. */
export const eDynParent = defineHandler("e2e.eDynParent", async (ctx, n: number) => {
  const dag = dagContext(ctx);
  if (dag === undefined) throw new TaskError("validation", "e2e.eDynParent runs only as a DAG step", { retryable: false });
  await dag.addStepWith("dyn-followup", { colocateHere: true }, eDouble, n);
  return n;
});

/**
 * A gate: blocks until the test opens it (see gates.ts), then returns `value`. Its step's
 * `ran` line (printed by the worker process) says it was reached. Honours its signal (cancel).
 */
export const eGate = defineHandler("e2e.eGate", async (ctx, value: number) => {
  const { dagId, stepId } = ctx.task;
  if (!dagId || !stepId) throw new TaskError("validation", "e2e.eGate runs only as a DAG step", { retryable: false });
  await gateOpen.wait(dagId, stepId, ctx.signal);
  return value;
});

/** Every handler a worker process registers ({@link eAdd} also under {@link LEGACY_ADD}). */
export const ALL_HANDLERS = [
  whoAmI,
  eMul,
  eInc,
  eDouble,
  eSum3,
  eOne,
  eSideEffect,
  eFlakyOnce,
  eNonRetryable,
  ePanics,
  eFailOptional,
  eRetryExhaust,
  eDynParent,
  eGate,
] as const;
