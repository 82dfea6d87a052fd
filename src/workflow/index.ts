/**
 * Durable DAG workflows on the broker port: build, submit, await, cancel, pause/resume,
 * breakpoints, signals, placement, delete, the debug report; the worker hook and middleware; the
 * scheduler.
 * @module
 */
export { Workflow } from "./workflow.js";
export type { WorkflowOptions } from "./workflow.js";
export { DagBuilder, Step, StepRef } from "./build/builder.js";
export type { DagOptions, StepArgs, StepArgsOf, StepLike, StepTarget } from "./build/builder.js";
export { MAX_SIGNAL_TIMEOUT_MS } from "./build/builder.js";
export { defineSignal, signalRef, SignalRef } from "./build/signals.js";
export type { SignalDef, SignalName } from "./build/signals.js";
export type { SubmitOptions } from "./ops/submit.js";
export type { LabelControlResult } from "./ops/pause.js";
export type { SignalOptions } from "./ops/signals.js";
export { formatDebug, formatDuration } from "./plan/index.js";
export type { BreakpointInfo, QueuedInfo, SignalInfo, StepWaits, DagDebug, StepDebug, StepBlocker } from "./plan/index.js";
export { dagContext } from "./steps/dynamic.js";
export type { DagContext, DynamicStep, DynamicStepOptions } from "./steps/dynamic.js";
export { Scheduler } from "./run/scheduler.js";
export type { SchedulerOptions } from "./run/scheduler.js";
export { KvLeaderElector, alwaysLeader, LEADER_BUCKET } from "./run/elector.js";
export type { LeaderElector, KvLeaderElectorOptions } from "./run/elector.js";
export type { DagInfo, StepView } from "./ops/queries.js";
export type { DagSummary, ListDagsOptions, StepCounts } from "./ops/listing.js";
export type { DagChange, StepRecordAt, WatchDagsOptions } from "./ops/records.js";
export { decodeDagChange } from "./ops/records.js";
export type { AwaitStepOptions } from "./ops/await.js";
export { WorkflowError, WorkflowErrorCode } from "./model/errors.js";
export { DagStatus, StepStatus, EventKind, StepErrorKind, STEP_INDEX_MAX } from "./model/records.js";
export type { DagMeta, StepRecord, SignalRecord, DagEvent, Placement } from "./model/records.js";
export { DAG_BUCKET } from "./model/keys.js";
export { encodeDagMeta, encodeStepRecord, encodeSignalRecord, decodeDagEvent } from "./model/codec.js";
export { DAG_EVENTS_STREAM, SCHEDULER_DURABLE } from "./store/events.js";
export { ensureTopology, TOPOLOGY_STREAMS } from "./ops/setup.js";
export type { TopologyOptions } from "./ops/setup.js";
export { truncateErrorMessage, DEFAULT_MAX_STEP_ERROR_BYTES } from "./steps/hook.js";
