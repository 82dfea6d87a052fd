/**
 * Durable DAG workflows on the broker port: build, submit, await, cancel, delete; the worker hook
 * and middleware; the scheduler.
 * @module
 */
export { Workflow } from "./workflow.js";
export type { WorkflowOptions } from "./workflow.js";
export { DagBuilder, Step, StepRef } from "./builder.js";
export type { DagOptions, StepArgs, StepArgsOf, StepLike, StepTarget } from "./builder.js";
export { dagContext } from "./dynamic.js";
export type { DagContext, DynamicStep, DynamicStepOptions } from "./dynamic.js";
export { Scheduler } from "./scheduler.js";
export type { SchedulerOptions } from "./scheduler.js";
export { KvLeaderElector, alwaysLeader, LEADER_BUCKET } from "./elector.js";
export type { LeaderElector, KvLeaderElectorOptions } from "./elector.js";
export type { AwaitStepOptions, DagInfo } from "./queries.js";
export { WorkflowError, WorkflowErrorCode } from "./errors.js";
export { DagStatus, StepStatus, EventKind } from "./records.js";
export type { DagMeta, StepRecord, SignalRecord, DagEvent, Placement } from "./records.js";
export { DAG_BUCKET } from "./keys.js";
export { DAG_EVENTS_STREAM, SCHEDULER_DURABLE } from "./events.js";
export { truncateErrorMessage, DEFAULT_MAX_STEP_ERROR_BYTES } from "./hook.js";
