/**
 * `ebind/otel`: OpenTelemetry tracing of tasks and DAGs. Needs the optional peer dependency
 * `@opentelemetry/api` (and, to record anything, an SDK the application sets up).
 *
 * @example
 * import { openTelemetry } from "ebind/otel";
 * const telemetry = openTelemetry(); // the global tracer provider, tracer "ebind"
 * const client = await Client.create(broker, { telemetry });
 * const worker = await Worker.start(broker, registry, { telemetry });
 * const workflow = await Workflow.create(broker, { telemetry });
 * await requeueDeadLetter(broker, seq, { telemetry });
 * @module
 */
export { openTelemetry, DEFAULT_MAX_LINKED_TASKS } from "./telemetry.js";
export type { OpenTelemetryOptions } from "./telemetry.js";
export { ATTR as OTEL_ATTRIBUTES } from "./attributes.js";
export { formatTraceparent, parseTraceparent } from "./propagation.js";
