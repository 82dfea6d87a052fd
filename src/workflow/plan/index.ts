/**
 * The workflow's pure state machine (reference §1.7.7, §3.12–3.14): readiness, cascade, completion,
 * finalisation, argument resolution and graph validation over a {@link DagState}. No I/O.
 * @module
 */
export { dagState, sortIds } from "./state.js";
export type { DagState } from "./state.js";
export { blockedAtBefore, depsSatisfied, holdingAtAfter, isAfterHolding, isBeforeGated, isSignalGated, readyToRun, waitingOnSignals } from "./readiness.js";
export { cascadeSkips, cascadeSkipCauses, hasOrDefaultRef, skipMessage } from "./cascade.js";
export type { CascadeSkip } from "./cascade.js";
export { addStep, applyCompletion } from "./transitions.js";
export type { CompletionResult, StepOutcome } from "./transitions.js";
export { allStepsTerminal, canPause, canResume, deriveFinalStatus, halfWritten, hasInFlightSteps, terminal } from "./finalize.js";
export { reopenedWith } from "./reopen.js";
export { resolveArgs } from "./resolve.js";
export type { ResolveLookup, ResolvedArgs } from "./resolve.js";
export { validateGraph } from "./graph.js";
export type { GraphNode } from "./graph.js";
export { computeBreakpoints, computeSignals, countBlocked, countWaitingSteps, stepWaits } from "./projections.js";
export type { BreakpointInfo, QueuedInfo, SignalInfo, StepWaits } from "./projections.js";
export { debugDag, formatDebug, formatDuration } from "./debug.js";
export type { DagDebug, StepBlocker, StepDebug } from "./debug.js";
