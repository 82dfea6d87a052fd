/**
 * Span attribute names: the OpenTelemetry messaging semantic conventions (as of semconv 1.45, where
 * `messaging.operation.type` `publish` became `send`) and ebind's own, under `ebind.`. Written out
 * here rather than imported, so `ebind/otel` needs only `@opentelemetry/api`.
 * @module
 */

/** The attribute names the spans of `ebind/otel` carry. */
export const ATTR = {
  /** Always `nats`. */
  system: "messaging.system",
  /** The subject published to or consumed from (`TASKS.<name>`, `TASKS_TARGET.<token>.<name>`, `DLQ.<name>`). */
  destination: "messaging.destination.name",
  /** `send` for publishes (enqueue, step start, requeue, dead letter), `process` for attempts. */
  operationType: "messaging.operation.type",
  /** `publish`, `requeue` or `process`: the first word of the span's name. */
  operationName: "messaging.operation.name",
  /** The task id (`<dag>:<step>` for a step). */
  messageId: "messaging.message.id",
  /** The durable consumer an attempt came from. */
  consumerGroup: "messaging.consumer.group.name",
  /** The worker id of an attempt. */
  clientId: "messaging.client.id",
  /** The error kind of a failed attempt or dead letter; the error code of a refused publish. */
  errorType: "error.type",
  taskName: "ebind.task.name",
  /** The worker's true attempt number (1 = first; a requeue starts again at 1). */
  taskAttempt: "ebind.task.attempt",
  /** The server's delivery count of the message (semconv has no generic name for it). */
  deliveryCount: "ebind.task.delivery_count",
  /** Milliseconds from the task's `enqueued_at` to the attempt's start. */
  queueWaitMs: "ebind.task.queue_wait_ms",
  /** How the attempt ended: `succeeded`, `retried`, `failed`, `handed-back`. */
  outcome: "ebind.task.outcome",
  /** The delay before a retried attempt's next delivery, in ms. */
  retryDelayMs: "ebind.task.retry_delay_ms",
  /** The task's target (claim), when it has one. */
  target: "ebind.task.target",
  /** Why the task was published: `enqueue`, `step`, `requeue`. */
  publishKind: "ebind.publish.kind",
  dagId: "ebind.dag.id",
  stepId: "ebind.step.id",
  /** The number of steps a DAG was submitted with. */
  dagSteps: "ebind.dag.steps",
  dagLabels: "ebind.dag.labels",
  /** On a span link: what the linked span is (`first_attempt`, `previous_attempt`, `requeued_task`). */
  linkKind: "ebind.link.kind",
} as const;
