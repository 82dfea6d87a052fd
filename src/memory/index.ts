/**
 * The in-process backend of the broker port (DESIGN.md §5): `memoryBroker()`, for tests and for
 * machines without a NATS server. Time comes from an injectable clock (`ManualClock` in tests).
 * @module
 */
export { memoryBroker, MemoryBroker, DEFAULT_MEMORY_MAX_PAYLOAD_BYTES, DEFAULT_MEMORY_ACK_WAIT_MS } from "./broker.js";
export type { MemoryBrokerOptions, MemoryBrokerStats } from "./broker.js";
export { DEFAULT_MEMORY_MAX_ACK_PENDING } from "./consumer.js";
export { DEFAULT_MEMORY_KV_HISTORY, MAX_MEMORY_KV_HISTORY } from "./kv.js";
export { DEFAULT_MEMORY_DUPLICATE_WINDOW_MS } from "./stream.js";
