/**
 * ebind for TypeScript: a task queue and durable workflow engine on NATS JetStream, wire-compatible
 * with ebind for Go.
 *
 * @example
 * import { Client, Registry, Worker, connectNats, defineHandler, ensureStreams } from "ebind";
 *
 * const greet = defineHandler("main.Greet", async (_ctx, name: string, excited: boolean) =>
 *   `hello ${name}${excited ? "!" : ""}`);
 *
 * const broker = await connectNats({ servers: "nats://127.0.0.1:4222" });
 * await ensureStreams(broker);
 * const registry = new Registry();
 * registry.register(greet);
 * const worker = await Worker.start(broker, registry, { concurrency: 8 });
 * const client = await Client.create(broker);
 * const future = await client.enqueue(greet, "world", true); // arguments checked by the compiler
 * console.log(await future.result());                        // "hello world!" (typed string)
 * await client.close(); await worker.close(); await broker.close();
 * @module
 */

// Task core
export {
  ErrKind,
  TaskError,
  EbindError,
  EbindErrorCode,
  toTaskError,
  RetryPolicy,
  defaultRetryPolicy,
  noRetryPolicy,
  MAX_DELAY_MS,
  Registry,
  withName,
  alias,
  Dispatcher,
  describe,
  canonicalName,
  defineHandler,
  taskRef,
  RawJson,
  rawJson,
  encodeTask,
  decodeTask,
  encodeResponse,
  decodeResponse,
  encodeDlqEntry,
  decodeDlqEntry,
} from "./task/index.js";
export type {
  TaskErrorData,
  Task,
  TaskResponse,
  Response,
  DlqEntry,
  RawMessage,
  RetryPolicyData,
  RetryPolicyOptions,
  HandlerContext,
  HandlerFn,
  HandlerSpec,
  DefinedHandler,
  TaskRef,
  ArgsOf,
  ResultOf,
  ArgSchemas,
  ArgType,
  RegisterOption,
} from "./task/index.js";

// Broker port and topology
export { ensureStreams, consoleLogger, silentLogger, taskFields, TASK_STREAM, RESPONSE_STREAM, DLQ_STREAM } from "./broker/index.js";
export type { Broker, StreamOptions, Logger, LogFields, LogFn, LogLevel, TaskLogSubject, KvBucket, KvEntry, Delivery, ConsumerState, Heartbeats, HeartbeatOptions, TrackOptions } from "./broker/index.js";

// Backends
export { connectNats, NatsBroker } from "./nats/index.js";
export { memoryBroker, MemoryBroker } from "./memory/index.js";
export type { MemoryBrokerOptions } from "./memory/index.js";
export { ManualClock, systemClock } from "./broker/index.js";
export type { Clock } from "./broker/index.js";
export type { NatsConnectOptions } from "./nats/index.js";
export { startNode, startCluster, findNatsServer } from "./embed/index.js";
export type { NatsNode, NodeOptions, NatsCluster, ClusterOptions } from "./embed/index.js";
export { openDevBackend } from "./dev/backend.js";
export type { DevBackend, DevBackendOptions } from "./dev/backend.js";

// Producer and consumer
export { Client, Future, pauseTask, resumeTask, listPausedTasks } from "./client/index.js";
export type { ClientOptions, EnqueueOptions, AwaitOptions, Enqueueable, TaskNameOf, TaskResume } from "./client/index.js";
export type { TaskPause } from "./broker/index.js";
export { Worker, recover, log, metrics, chain, claimsFunc, staticClaims, concreteTarget } from "./worker/index.js";
export type { WorkerOptions, Middleware, TaskHandler, Metrics, ClaimProvider, StepHook, StepStart, StepSettled, AbandonedHandler, WorkerHealth, WorkerConsumer } from "./worker/index.js";

// Workflows
export {
  Workflow,
  DagBuilder,
  Step,
  StepRef,
  dagContext,
  defineSignal,
  signalRef,
  SignalRef,
  formatDebug,
  Scheduler,
  KvLeaderElector,
  alwaysLeader,
  WorkflowError,
  WorkflowErrorCode,
  DagStatus,
  StepStatus,
  StepErrorKind,
  ensureTopology,
} from "./workflow/index.js";
export type {
  WorkflowOptions,
  DagOptions,
  StepArgs,
  StepLike,
  DagContext,
  DynamicStep,
  DynamicStepOptions,
  SchedulerOptions,
  LeaderElector,
  AwaitStepOptions,
  DagInfo,
  StepView,
  StepWaits,
  QueuedInfo,
  DagMeta,
  StepRecord,
  SubmitOptions,
  SignalDef,
  SignalName,
  SignalOptions,
  SignalInfo,
  BreakpointInfo,
  LabelControlResult,
  DagDebug,
  DagSummary,
  ListDagsOptions,
  StepCounts,
  DagChange,
  StepRecordAt,
  WatchDagsOptions,
  TopologyOptions,
} from "./workflow/index.js";

// Dead letters
export { listDeadLetters, getDeadLetter, requeueDeadLetter, purgeDeadLetters } from "./dlq/index.js";
export type { DeadLetter, PrepareRequeue, Requeued, RequeueOptions } from "./dlq/index.js";
export { combineTelemetry } from "./broker/index.js";
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
} from "./broker/index.js";
