/**
 * The broker port, the stream topology and the helpers every backend and layer shares.
 * @module
 */
export type {
  Broker,
  ConsumerSpec,
  ConsumerState,
  Delivery,
  Settlement,
  HeartbeatOptions,
  Heartbeats,
  KvBucket,
  KvEntry,
  KvOptions,
  KvWatchOptions,
  PublishAck,
  PublishOptions,
  PullOptions,
  Retention,
  StoredMessage,
  StreamSpec,
  StreamState,
  TrackOptions,
} from "./port.js";
export {
  ensureStreams,
  taskQueueStreams,
  taskSubject,
  targetedTaskSubject,
  targetedTaskFilter,
  taskPublishSubject,
  targetToken,
  responseSubject,
  responseDurable,
  claimDurable,
  dlqSubject,
  handlerNameFromSubject,
  TASK_STREAM,
  RESPONSE_STREAM,
  DLQ_STREAM,
  PARKED_STREAM,
  PARKED_PREFIX,
  TASK_PREFIX,
  TARGET_PREFIX,
  RESPONSE_PREFIX,
  DLQ_PREFIX,
  DEFAULT_WORKER_DURABLE,
  DLQ_HEADROOM_BYTES,
  DEFAULT_REPLICAS,
  DEFAULT_TASK_MAX_AGE_MS,
  DEFAULT_RESPONSE_MAX_AGE_MS,
  DEFAULT_DLQ_MAX_AGE_MS,
  DEFAULT_DUPLICATE_WINDOW_MS,
  deploymentReplicas,
} from "./topology.js";
export type { StreamOptions } from "./topology.js";
export { TASK_PAUSES_BUCKET, PRIOR_ATTEMPTS_HEADER, RESUMED_REVISION_HEADER, unparkTasks, parkedSubject } from "./parking.js";
export type { TaskPause, TaskPauseState } from "./parking.js";
export { ManualClock, systemClock, resolveClock } from "./clock.js";
export type { Clock, TimerHandle } from "./clock.js";
export { ConsumeLoop } from "./consume-loop.js";
export type { ConsumeLoopOptions } from "./consume-loop.js";
export { consoleLogger, silentLogger, taskFields, resolveLogger } from "./logger.js";
export type { Logger, LogFields, LogFn, LogLevel, TaskLogSubject } from "./logger.js";
export { combineTelemetry } from "./telemetry.js";
export type {
  AttemptEvent,
  AttemptOutcome,
  AttemptScope,
  DagSubmitEvent,
  DagSubmitScope,
  DeadLetterEvent,
  PublishEvent,
  PublishKind,
  PublishScope,
  SchedulerEvent,
  Telemetry,
  TraceCarrier,
} from "./telemetry.js";
